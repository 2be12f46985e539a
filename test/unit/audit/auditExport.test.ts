/**
 * The events that close the audit gaps, through the whole bot, then in the audit export an
 * approver downloads ("export audit"), parsed back with csv-parse: Keep waiting, a rejected
 * renewal, a refused click, a bulk job confirmed, finished and another cancelled.
 */
import { parse } from 'csv-parse/sync';
import type { BulkFeature } from '../../../src/teams/bulk/bulkFeature';
import { AUDIT_EXPORT_COLUMNS, streamText } from '../../../src/usecases/reports/exportFiles';
import { jobIdOf } from '../../support/bulkBot';
import { DEMO, actionData, lifecycleBot, textOf, type LifecycleBot } from '../../support/lifecycleBot';
import { reportsOver } from '../../support/reports';

jest.setTimeout(60_000);

const { megan, alex, adele } = DEMO.users;

const cardTo = (bot: LifecycleBot, who: 'megan' | 'alex', text: string): Record<string, unknown> => {
  const card = bot.cardsTo(who).find((c) => textOf(c).includes(text));
  if (!card) throw new Error(`${who} got no card saying "${text}"`);
  return card;
};

async function pasteBulk(bot: LifecycleBot, rows: string[]): Promise<string> {
  const replies = await bot.say(['bulk invite to Project Falcon', 'Name,Email', ...rows].join('\n'), 'megan');
  return jobIdOf(replies[0]?.attachments?.[0]?.content);
}

describe('the audit export', () => {
  it('carries Keep waiting, a rejected renewal, refusals and a bulk job from confirm to end, with no address or link', async () => {
    const bot = await lifecycleBot({ env: { APPROVAL_POLICY: 'always' } });
    try {
      for (const who of ['megan', 'alex', 'adele'] as const) await bot.chatWith(who);
      await bot.start();

      // Keep waiting on Isabel's reminder.
      const reminder = cardTo(bot, 'megan', 'Isabel Ruiz has not accepted');
      await bot.click('lifecycle.keepWaiting', actionData(reminder, 'lifecycle.keepWaiting'), 'megan');
      const isabel = await bot.access('unredeemed');
      expect(isabel.keptWaitingFor).not.toBeNull();

      // Nora's renewal asked, refused to Adele, rejected by Alex (a second Reject changes nothing).
      const nora = await bot.access('endingTomorrow');
      const renewal = cardTo(bot, 'megan', "Nora Quinn's access to Project Falcon ends soon");
      await bot.click('lifecycle.renew', actionData(renewal, 'lifecycle.renew'), 'megan');
      const request = cardTo(bot, 'alex', "Renew Nora Quinn's access to Project Falcon?");
      await bot.click('lifecycle.rejectRenewal', actionData(request, 'lifecycle.rejectRenewal'), 'adele');
      const rejected = textOf((await bot.click('lifecycle.rejectRenewal', actionData(request, 'lifecycle.rejectRenewal'), 'alex')).value);
      expect(rejected).toContain("Rejected: Nora Quinn's access still ends on");
      expect(textOf((await bot.click('lifecycle.rejectRenewal', actionData(request, 'lifecycle.rejectRenewal'), 'alex')).value)).toContain('already decided');
      expect((await bot.access('endingTomorrow')).endsAt).toBe(nora.endsAt);

      // A bulk job confirmed and run to its end; another cancelled before it was sent; Adele refused on it.
      const bulk = bot.features.find((f) => f.name === 'bulk') as BulkFeature;
      const ran = await pasteBulk(bot, ['Ana Silva,ana@example.org', 'Bo Chen,bo@example.org', 'Ana Again,ANA@example.org']);
      expect(textOf((await bot.click('bulk.confirm', { jobId: ran }, 'megan')).value)).toContain('Bulk invitation');
      await bulk.runner.whenFinished(ran);
      const dropped = await pasteBulk(bot, ['Cy Dee,cy@example.org']);
      await bot.click('bulk.cancel', { jobId: dropped }, 'adele');
      await bot.click('bulk.cancel', { jobId: dropped }, 'megan');

      // Alex, a guest approver, exports today's audit log.
      const { service, signer } = reportsOver(bot.store, bot.clock, { rights: { isApprover: async (userId) => userId === alex.id } });
      const today = bot.clock.now().toISOString().slice(0, 10);
      const link = await service.exportLink({ userId: alex.id, name: alex.displayName, tenantId: DEMO.tenantId }, { kind: 'audit', fromDay: today, toDay: today });
      if (link.kind !== 'link') throw new Error(link.message);
      const file = await service.openExport(signer.verify(decodeURIComponent(new URL(link.url).searchParams.get('t') ?? '')));
      if (!file) throw new Error('export refused');
      const rows = parse(await streamText(file.stream), { bom: true, columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
      expect(Object.keys(rows[0] ?? {})).toEqual([...AUDIT_EXPORT_COLUMNS]);

      const only = (action: string) => rows.filter((r) => r.Action === action);
      expect(only('guestAccess.keptWaiting')).toEqual([
        expect.objectContaining({ Who: megan.displayName, 'Who id': megan.id, Subject: `guestAccess ${isabel.id}`, Outcome: 'done' }),
      ]);
      expect(only('guestAccess.renewalRejected')).toEqual([
        expect.objectContaining({ Who: alex.displayName, 'Who id': alex.id, Subject: `guestAccess ${nora.id}`, Outcome: 'rejected' }),
      ]);
      expect(JSON.parse(only('guestAccess.renewalRejected')[0]?.Details ?? '{}')).toMatchObject({ endsAt: nora.endsAt });
      expect(only('guestAccess.refused')).toEqual([expect.objectContaining({ 'Who id': adele.id, Subject: `guestAccess ${nora.id}`, Outcome: 'refused' })]);
      expect(JSON.parse(only('guestAccess.refused')[0]?.Details ?? '{}')).toEqual({ attempted: 'rejectRenewal', reason: 'notApprover', requestId: expect.any(String) });

      expect(only('bulkJob.confirmed')).toEqual([expect.objectContaining({ 'Who id': megan.id, Subject: `bulkJob ${ran}`, Outcome: 'done' })]);
      expect(only('bulkJob.finished')).toEqual([expect.objectContaining({ Subject: `bulkJob ${ran}`, Outcome: 'completed' })]);
      // Under APPROVAL_POLICY=always every row went to the approvers instead of being sent.
      expect(JSON.parse(only('bulkJob.finished')[0]?.Details ?? '{}')).toMatchObject({ rows: 3, toSend: 0, invited: 0, sentForApproval: 2, failed: 0, duplicates: 1 });
      expect(only('bulkJob.cancelled')).toEqual([expect.objectContaining({ 'Who id': megan.id, Subject: `bulkJob ${dropped}`, Outcome: 'cancelled' })]);
      expect(only('bulkJob.refused')).toEqual([expect.objectContaining({ 'Who id': adele.id, Subject: `bulkJob ${dropped}`, Outcome: 'refused' })]);

      // None of these rows names a guest's address or carries a link.
      const added = rows.filter((r) => /^(guestAccess\.(keptWaiting|renewalRejected|refused)|bulkJob\.)/.test(r.Action ?? ''));
      expect(added).toHaveLength(7);
      for (const r of added) expect(r.Details).not.toMatch(/@|https?:|redeem/i);
    } finally {
      await bot.stop();
    }
  });
});
