/**
 * The export files: every guest's access, and the audit log over a period. UTF-8 CSV with a BOM
 * and Windows line ends (what Excel opens cleanly), cells that a spreadsheet would run as a
 * formula neutralised as in the bulk results file, and never a redeem link or any other secret.
 * Streamed: the audit export reads the log a page at a time.
 */
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { LifecycleSettings } from '../../domain/lifecycle';
import { neutraliseCell } from '../bulk/resultsCsv';
import type { GuestAccessRecord } from '../lifecycle/ports';
import { auditEventsInRange, type AuditEvent, type AuditLog, type JsonValue } from '../ports/auditLog';
import type { InvitationRecord } from '../ports/invitations';
import { InvitationIndex, reportState, signInMethodOf } from './guestReport';

export const GUEST_EXPORT_COLUMNS = [
  'Guest',
  'Email',
  'Site',
  'Site URL',
  'Sponsor',
  'State',
  'Invited',
  'Accepted',
  'Ends',
  'Ended',
  'End reason',
  'Renewals',
  'Sign-in method',
  'Invited by',
] as const;

export const AUDIT_EXPORT_COLUMNS = ['When', 'Who', 'Who id', 'Action', 'Subject', 'Outcome', 'Details'] as const;

const STATE_LABELS: Record<ReturnType<typeof reportState>, string> = {
  invited: 'invited (not redeemed)',
  accepted: 'accepted',
  endingSoon: 'ending soon',
  ended: 'ended',
  withdrawn: 'withdrawn',
  removed: 'removed',
};

export function guestExportRecord(access: GuestAccessRecord, invitations: InvitationIndex, settings: LifecycleSettings, now: Date): string[] {
  const invitation = invitations.forAccess(access);
  // Deliberately no redeemUrl (the record keeps the latest one for Resend): a link in a file
  // travels further than the file's reader.
  return [
    access.displayName,
    access.email,
    access.siteName,
    access.siteUrl,
    access.sponsor.name,
    STATE_LABELS[reportState(settings, access, now)],
    access.invitedAt,
    access.acceptedAt ?? '',
    access.endsAt ?? 'no end',
    access.endedAt ?? '',
    access.endReason ?? '',
    String(access.renewals),
    signInMethodOf(access, invitations),
    invitation?.requestedBy.name ?? '',
  ];
}

/** Keys whose values are never written out, whatever an event carries (defence in depth: events should hold none). */
const SECRET_KEY = /redeem|token|secret|password|credential|url$/i;

function withoutSecrets(value: JsonValue, key: string | null = null): JsonValue {
  if (key !== null && SECRET_KEY.test(key)) return '[not exported]';
  if (Array.isArray(value)) return value.map((v) => withoutSecrets(v));
  if (value && typeof value === 'object') {
    const out: { [k: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(value)) out[k] = withoutSecrets(v, k);
    return out;
  }
  return value;
}

/** What came of the action: the event's own outcome when it records one, else read from its verb. */
export function auditOutcome(event: Pick<AuditEvent, 'action' | 'details'>): string {
  for (const key of ['outcome', 'status', 'result']) {
    const v = event.details[key];
    if (typeof v === 'string' && v.trim() !== '') return v;
  }
  const verb = event.action.slice(event.action.lastIndexOf('.') + 1).toLowerCase();
  if (verb.includes('fail')) return 'failed';
  if (verb.includes('partial')) return 'partial';
  if (verb.includes('refused') || verb.includes('denied')) return 'refused';
  if (verb.includes('rejected') || verb.includes('declined')) return 'rejected';
  if (verb.includes('expired')) return 'expired';
  if (verb.includes('cancelled') || verb.includes('withdrawn')) return 'cancelled';
  return 'done';
}

export function auditExportRecord(event: AuditEvent): string[] {
  const details = withoutSecrets(event.details) as { [k: string]: JsonValue };
  return [
    event.at,
    event.actorName,
    event.actorId,
    event.action,
    `${event.subjectType} ${event.subjectId}`,
    auditOutcome(event),
    Object.keys(details).length === 0 ? '' : JSON.stringify(details),
  ];
}

function csvStream(columns: readonly string[], records: AsyncIterable<string[]>): Readable {
  const stringifier = stringify({
    header: true,
    columns: [...columns],
    bom: true,
    record_delimiter: 'windows',
    cast: { string: (value) => neutraliseCell(value) },
  });
  return Readable.from(records).pipe(stringifier);
}

export function guestExportStream(access: readonly GuestAccessRecord[], invitations: readonly InvitationRecord[], settings: LifecycleSettings, now: Date): Readable {
  const index = new InvitationIndex(invitations);
  // Grouped by site, then newest invitation first (the repository's order), so a site's guests read together.
  const ordered = [...access].sort((a, b) => a.siteName.localeCompare(b.siteName) || b.invitedAt.localeCompare(a.invitedAt));
  return csvStream(
    GUEST_EXPORT_COLUMNS,
    (async function* () {
      for (const a of ordered) yield guestExportRecord(a, index, settings, now);
    })(),
  );
}

export function auditExportStream(audit: Pick<AuditLog, 'listRange'>, from: Date, to: Date): Readable {
  return csvStream(
    AUDIT_EXPORT_COLUMNS,
    (async function* () {
      for await (const event of auditEventsInRange(audit, from, to)) yield auditExportRecord(event);
    })(),
  );
}

/** A whole stream as text (tests, small files). */
export async function streamText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}
