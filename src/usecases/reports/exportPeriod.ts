/**
 * The period of an audit export, from what the person typed after "export audit":
 * "from 2026-11-01 to 2026-11-30", "2026-11-01 to 2026-11-30", "last 30 days", or nothing (the
 * last 30 days). Whole UTC days, both ends included. Bad input gets a message saying what to
 * write instead, and nothing is exported.
 */
import { DAY_MS } from '../../domain/lifecycle';
import { MAX_AUDIT_EXPORT_DAYS, type ExportRequest, type ReportRefusal } from './model';

export const DEFAULT_AUDIT_EXPORT_DAYS = 30;

const EXAMPLE = 'For example: "export audit from 2026-11-01 to 2026-11-30" or "export audit last 30 days".';

function invalid(message: string): ReportRefusal {
  return { kind: 'refused', reason: 'invalidInput', message: `${message} ${EXAMPLE}` };
}

/** 'YYYY-MM-DD' as a UTC midnight, or null when it is not a real calendar day. */
export function parseDay(text: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 2026-02-30 over to March: a day that does not come back as typed is no day.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return date;
}

export const dayOf = (date: Date): string => date.toISOString().slice(0, 10);

/** The instants an audit export covers: [from, to) with `to` the midnight after its last day. */
export function auditPeriodBounds(request: { fromDay: string; toDay: string }): { from: Date; to: Date } {
  const from = parseDay(request.fromDay);
  const last = parseDay(request.toDay);
  if (!from || !last) throw new RangeError('audit export period: not a day');
  return { from, to: new Date(last.getTime() + DAY_MS) };
}

export function parseAuditPeriod(text: string, now: Date): Extract<ExportRequest, { kind: 'audit' }> | ReportRefusal {
  const words = text.trim().toLowerCase().replace(/\s+/g, ' ');
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const lastDays = (days: number): Extract<ExportRequest, { kind: 'audit' }> => ({
    kind: 'audit',
    fromDay: dayOf(new Date(today.getTime() - (days - 1) * DAY_MS)),
    toDay: dayOf(today),
  });
  if (words === '') return lastDays(DEFAULT_AUDIT_EXPORT_DAYS);

  const last = /^(?:for )?(?:the )?(?:last|past) (\d{1,6}) days?$/.exec(words);
  if (last) {
    const days = Number(last[1]);
    if (days < 1) return invalid('Ask for at least one day.');
    if (days > MAX_AUDIT_EXPORT_DAYS) return invalid(`An audit export covers at most ${MAX_AUDIT_EXPORT_DAYS} days; ask for a shorter period.`);
    return lastDays(days);
  }

  const range = /^(?:from |between )?(\S+) (?:to|until|and|-) (\S+)$/.exec(words);
  if (!range) return invalid("I didn't understand that period.");
  const [fromText, toText] = [range[1] as string, range[2] as string];
  const from = parseDay(fromText);
  // What was typed is not repeated back (a reply would render it as markdown).
  if (!from) return invalid('The start is not a date I can read: write dates as YYYY-MM-DD (a real calendar day).');
  const to = parseDay(toText);
  if (!to) return invalid('The end is not a date I can read: write dates as YYYY-MM-DD (a real calendar day).');
  if (to.getTime() < from.getTime()) return invalid(`The period ends (${dayOf(to)}) before it starts (${dayOf(from)}).`);
  if (from.getTime() > today.getTime()) return invalid(`The period starts after today (${dayOf(today)}), so nothing has been recorded in it yet.`);
  const days = Math.round((to.getTime() - from.getTime()) / DAY_MS) + 1;
  if (days > MAX_AUDIT_EXPORT_DAYS) {
    return invalid(`That is ${days} days; an audit export covers at most ${MAX_AUDIT_EXPORT_DAYS} days. Ask for a shorter period, or several.`);
  }
  return { kind: 'audit', fromDay: dayOf(from), toDay: dayOf(to) };
}
