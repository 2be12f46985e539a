/**
 * Rows that need an approver go to the approvals feature (ApprovalService.submit) when the job
 * runs: one request per row, recorded on the row and in the results file, never asked twice.
 */
import { sqliteDatabaseOf } from '../../../src/adapters/sqlite/store';
import { bulkMigrations } from '../../../src/adapters/sqlite/bulkJobs';
import { resultsCsvText } from '../../../src/usecases/bulk/resultsCsv';
import { bulkBot, jobIdOf, textOf, type BulkBot } from '../../support/bulkBot';
import { allRows, invitationsPerAddress } from '../../support/bulkEnv';
import { DEMO, fixedClock } from '../../support/directory';
import { formatAccessDay } from '../../../src/domain/accessEnd';
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

function setup(options: { lifecycle?: boolean; now?: string } = {}): { approvals: ApprovalTestbed; bot: BulkBot } {
  const clock = fixedClock(options.now);
  const approvals = approvalTestbed({
    clock,
    store: memoryStore([...APPROVAL_TEST_MIGRATIONS, ...bulkMigrations], { clock }),
    settings: { policy: 'unlistedDomains', partnerDomains: ['fabrikam.com'] },
    lifecycle: options.lifecycle,
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

  it('a file whose every row needs an approver can be confirmed: the summary card offers Confirm', async () => {
    const { bot } = setup();
    const replies = await bot.say(['bulk invite to Project Falcon', 'Name,Email', 'Ana Silva,ana@example.org', 'Cy Doe,cy@outlook.com'].join('\n'));
    const card = replies[0]?.attachments?.[0]?.content as { actions?: Array<{ title?: string; verb?: string }> } | undefined;
    expect(textOf(replies)).toContain('When you confirm, 2 rows go to the approvers instead');
    expect(card?.actions?.map((a) => a.title)).toEqual(['Confirm', 'Cancel']);
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

describe('a bulk row that needs an approver and gives its own end of access', () => {
  const DAY_MS = 86_400_000;
  const day = (days: number): string => new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
  /** Megan's file with Ana (not a partner domain) ending on `end`, run: the approval request it made. */
  async function requestFor(end: string) {
    // The approvals' clock is today's, as the bulk job's (the file's dates are checked against it).
    const { approvals, bot } = setup({ lifecycle: true, now: new Date().toISOString() });
    await runFile(bot, ['bulk invite to Project Falcon', 'Name,Email,Access ends on', `Ana Silva,ana@example.org,${end}`].join('\n'));
    const [request] = await approvals.requests.listPending(actorOf('megan').tenantId);
    if (!request) throw new Error('no request');
    return { approvals, request };
  }

  it("goes to the approver with that end, and once approved the guest's access is recorded with it, not the site's period", async () => {
    const ownDate = day(40);
    const { approvals, request } = await requestFor(ownDate);
    expect(request.subject).toMatchObject({ kind: 'invitation', guestEmail: 'ana@example.org', accessEnd: ownDate });
    // A calendar day: the same whenever it is approved (no "if approved today").
    const shownEnd = formatAccessDay(`${ownDate}T12:00:00Z`);
    const approverCard = textOf(approvals.adapter.cardsSentTo(personalConversationId('alex')));
    expect(approverCard).toContain(`Access ends on ${shownEnd}`);
    expect(approverCard).not.toContain(`Access ends on ${shownEnd} if approved today`);

    await approvals.service.decide(actorOf('alex'), request.id, 'approve', null, request.version);
    await approvals.service.whenIdle();
    const guest = await approvals.directory.findUserByEmail('ana@example.org');
    if (!guest) throw new Error('ana was not invited');
    const access = await approvals.store.guestAccess.findByKey({ tenantId: actorOf('megan').tenantId, groupId: DEMO.groups.projectFalcon.id, userId: guest.id });
    expect(access?.endsAt).toBe(`${ownDate}T23:59:59.999Z`);
  });

  it('an end date that passed while the request waited: nothing is sent, and the outcome says why', async () => {
    const ownDate = day(3);
    const { approvals, request } = await requestFor(ownDate);
    approvals.clock.advance(5 * DAY_MS);
    await approvals.service.decide(actorOf('alex'), request.id, 'approve', null, request.version);
    await approvals.service.whenIdle();
    expect(invitationsPerAddress(approvals.directory).get('ana@example.org')).toBeUndefined();
    const decided = await approvals.requests.get(request.id);
    expect(decided?.outcome).toMatchObject({ status: 'failed' });
    expect(decided?.outcome?.message).toContain(`The access end date asked for, ${formatAccessDay(`${ownDate}T12:00:00Z`)}, had passed when this was approved, so nothing was sent.`);
  });
});
