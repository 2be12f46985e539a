/**
 * Rows that need an approver go to the approvals feature (ApprovalService.submit) when the job
 * runs: one request per row, recorded on the row and in the results file, never asked twice.
 */
import { sqliteDatabaseOf } from '../../../src/adapters/sqlite/store';
import { bulkMigrations } from '../../../src/adapters/sqlite/bulkJobs';
import { resultsCsvText } from '../../../src/usecases/bulk/resultsCsv';
import { bulkBot, jobIdOf, textOf, type BulkBot } from '../../support/bulkBot';
import { allRows, invitationsPerAddress } from '../../support/bulkEnv';
import { fixedClock } from '../../support/directory';
import { memoryStore } from '../../support/store';
import { APPROVAL_TEST_MIGRATIONS, actorOf, approvalTestbed, personalConversationId, type ApprovalTestbed } from '../approvals/testbed';

const FILE = [
  'bulk invite to Project Falcon',
  'Name,Email',
  'Bo Chen,bo@fabrikam.com',
  'Ana Silva,ana@example.org',
  'Cy Doe,cy@outlook.com',
  'Ana Again,ANA@example.org',
].join('\n');

function setup(): { approvals: ApprovalTestbed; bot: BulkBot } {
  const clock = fixedClock();
  const approvals = approvalTestbed({
    clock,
    store: memoryStore([...APPROVAL_TEST_MIGRATIONS, ...bulkMigrations], { clock }),
    settings: { policy: 'unlistedDomains', partnerDomains: ['fabrikam.com'] },
  });
  const bot = bulkBot({
    fake: approvals.directory,
    db: sqliteDatabaseOf(approvals.store),
    approvalPolicy: 'unlistedDomains',
    partnerDomains: ['fabrikam.com'],
    approvalService: approvals.service,
  });
  return { approvals, bot };
}

async function runFile(bot: BulkBot, text = FILE, as: 'megan' | 'alex' = 'megan'): Promise<{ jobId: string; summary: string }> {
  const replies = await bot.say(text, { as });
  const card = replies[0]?.attachments?.[0]?.content;
  if (!card) throw new Error(`no summary card: ${textOf(replies)}`);
  const jobId = jobIdOf(card);
  await bot.execute('bulk.confirm', { jobId }, { as });
  await bot.feature.runner.whenFinished(jobId);
  return { jobId, summary: textOf(card) };
}

describe('bulk rows that need an approver', () => {
  it('the summary says how many rows go to the approvers when the file is confirmed', async () => {
    const { bot } = setup();
    const replies = await bot.say(FILE);
    const text = textOf(replies);
    expect(text).toContain('When you confirm, 2 rows go to the approvers instead');
    expect(text).toContain('example.org is not on the list of partner domains');
  });

  it('each such row is submitted once, recorded as sent for approval with its request id, and only partner rows are invited', async () => {
    const { approvals, bot } = setup();
    const { jobId } = await runFile(bot);

    expect([...invitationsPerAddress(approvals.directory).keys()]).toEqual(['bo@fabrikam.com']);
    const pending = (await approvals.requests.listPending(actorOf('megan').tenantId));
    expect(pending.map((r) => (r.subject.kind === 'invitation' ? r.subject.guestEmail : '')).sort()).toEqual(['ana@example.org', 'cy@outlook.com']);
    expect(pending.every((r) => r.requester.userId === actorOf('megan').userId)).toBe(true);

    const rows = await allRows(bot.env.jobs, jobId);
    const sent = rows.filter((r) => r.state === 'sentForApproval');
    expect(sent.map((r) => r.email).sort()).toEqual(['ana@example.org', 'cy@outlook.com']);
    expect(new Set(sent.map((r) => r.approvalRequestId))).toEqual(new Set(pending.map((r) => r.id)));
    expect(await bot.env.jobs.counts(jobId)).toMatchObject({ done: 1, sentForApproval: 2, duplicate: 1, needsApproval: 0 });

    // The approver (Alex) got a card for each request in his personal chat.
    expect(approvals.adapter.cardsSentTo(personalConversationId('alex'))).toHaveLength(2);

    const csv = await resultsCsvText(bot.env.jobs, jobId);
    for (const request of pending) {
      const email = request.subject.kind === 'invitation' ? request.subject.guestEmail : '';
      expect(csv).toMatch(new RegExp(`${email.replace('.', '\\.')},.*,PendingApproval,.*sent for approval \\(request ${request.id}\\)`));
    }
    expect(bot.notifier.notices.some((n) => n.text?.includes('2 sent for approval'))).toBe(true);
  });

  it('sending the same file again asks nobody twice: the rows point at the requests already waiting', async () => {
    const { approvals, bot } = setup();
    const first = await runFile(bot);
    const cardsBefore = approvals.adapter.sent.length;
    const second = await runFile(bot);

    expect(await approvals.requests.listPending(actorOf('megan').tenantId)).toHaveLength(2);
    const idsOf = async (jobId: string) =>
      (await allRows(bot.env.jobs, jobId)).filter((r) => r.state === 'sentForApproval').map((r) => r.approvalRequestId).sort();
    expect(await idsOf(second.jobId)).toEqual(await idsOf(first.jobId));
    expect(approvals.adapter.sent.length).toBe(cardsBefore);
  });

  it('once an approver has approved and the guest was invited, the row is done in the next run', async () => {
    const { approvals, bot } = setup();
    await runFile(bot);
    const ana = (await approvals.requests.listPending(actorOf('megan').tenantId)).find((r) => r.subject.kind === 'invitation' && r.subject.guestEmail === 'ana@example.org');
    if (!ana) throw new Error('no request for ana');
    await approvals.service.decide(actorOf('alex'), ana.id, 'approve', null, ana.version);
    await approvals.service.whenIdle();

    const again = await runFile(bot);
    const row = (await allRows(bot.env.jobs, again.jobId)).find((r) => r.email === 'ana@example.org');
    expect(row).toMatchObject({ state: 'done', error: 'success' });
    expect(invitationsPerAddress(approvals.directory).get('ana@example.org')).toBe(1);
  });

  it('a file sent by an approver needs no approval', async () => {
    const { approvals, bot } = setup();
    // Alex owns Research and is in the approver group.
    const { jobId } = await runFile(bot, FILE.replace('Project Falcon', 'Research'), 'alex');
    expect(await approvals.requests.listPending(actorOf('alex').tenantId)).toHaveLength(0);
    expect(await bot.env.jobs.counts(jobId)).toMatchObject({ done: 3, sentForApproval: 0, needsApproval: 0 });
  });
});
