/**
 * npm run migrate:sqlite-to-azure: an embedded store with one of every kind of record (bot state,
 * chats, invitations, an open and a decided approval with a delivery and a notice, an open reset
 * request, a running bulk job with rows, the audit history, the results-link secret, guest access
 * records and scheduled work, one item of it claimed by a process long gone) is copied
 * into Azure Storage (Azurite) and read back through the Azure repositories with the same content
 * and ids; a second run copies nothing; the report says what was copied.
 */
import { openAzureStore } from '../../../src/adapters/azure/store';
import type { NewApprovalRequest } from '../../../src/usecases/approvals/model';
import type { NewBulkRow } from '../../../src/domain/bulkJob';
import { useAzurite } from '../../support/azurite';
import { openStore } from '../../../src/adapters/sqlite/store';
import { describeReport, migrateStore } from '../../../src/tools/migrateSqliteToAzure';
import { DEMO } from '../../support/directory';
import { tempDatabaseFile } from '../../support/store';
import { personalReference } from '../approvals/testbed';

const alex = { userId: DEMO.users.alex.id, name: DEMO.users.alex.displayName };

function approvalInput(guest: string): NewApprovalRequest {
  return {
    tenantId: DEMO.tenantId,
    requester: { userId: DEMO.users.megan.id, name: DEMO.users.megan.displayName, tenantId: DEMO.tenantId },
    requesterConversationId: personalReference('megan').conversation?.id ?? null,
    subject: {
      kind: 'invitation',
      guestName: guest,
      guestEmail: `${guest}@fabrikam.com`,
      groupId: DEMO.groups.projectFalcon.id,
      siteName: 'Project Falcon',
      siteUrl: 'https://contoso.sharepoint.com/sites/ProjectFalcon',
      signInMethod: 'emailOneTimePasscode',
      signInSummary: null,
      warnings: [],
    },
    justification: 'Supplier audit',
    reasons: ['You are not an owner of this site, so an approver decides.'],
    createdAt: '2026-11-20T09:00:00.000Z',
    expiresAt: '2026-12-04T09:00:00.000Z',
  };
}

function bulkRow(rowNumber: number): NewBulkRow {
  return {
    rowNumber,
    name: `Partner ${rowNumber}`,
    email: `partner${rowNumber}@fabrikam.com`,
    emailKey: `partner${rowNumber}@fabrikam.com`,
    groupId: DEMO.groups.projectFalcon.id,
    siteName: 'Project Falcon',
    siteUrl: 'https://contoso.sharepoint.com/sites/ProjectFalcon',
    redirectUrl: null,
    sendEmail: null,
    message: null,
    predictedMethod: 'emailOneTimePasscode',
    state: 'pending',
  };
}

interface Seeded {
  access: string[];
  review: string;
  openApproval: string;
  decidedApproval: string;
  resetRequest: string;
  bulkJob: string;
  secret: Buffer;
}

async function embeddedStoreWithData(file: string): Promise<Seeded> {
  const store = openStore({ file });
  await store.botStorage.write({
    'msteams/conversations/a:chat-megan': { DialogState: { dialogStack: [{ id: 'inviteGuest', state: { step: 1 } }] } },
    'msteams/users/29:megan': { seen: true },
  });
  await store.conversationReferences.upsert(personalReference('megan'));
  await store.conversationReferences.upsert(personalReference('adele'));
  for (const [i, state] of (['completed', 'failed', 'pending'] as const).entries()) {
    const { record } = await store.invitations.claim({
      tenantId: DEMO.tenantId,
      emailNormalised: `moved${i}@fabrikam.com`,
      groupId: DEMO.groups.projectFalcon.id,
      emailDisplay: `Moved${i}@fabrikam.com`,
      displayName: `Moved ${i}`,
      siteName: 'Project Falcon',
      siteUrl: 'https://contoso.sharepoint.com/sites/ProjectFalcon',
      requestedBy: { id: DEMO.users.megan.id, name: DEMO.users.megan.displayName },
      source: 'chat',
    });
    await store.invitations.update(record.id, record.version, {
      state,
      userId: state === 'completed' ? `user-${i}` : null,
      redeemUrl: state === 'completed' ? `https://login.microsoftonline.com/redeem?rd=${i}` : null,
      lockedBy: 'a-process-long-gone',
    });
  }
  // An open approval whose card reached Alex and whose requester notice is still to be delivered.
  const open = await store.approvalRequests.create(approvalInput('open'));
  await store.approvalRequests.recordDelivery({
    requestId: open.id,
    purpose: 'card',
    audience: 'approver',
    recipientId: alex.userId,
    recipientName: alex.name,
    status: 'sent',
    conversation: { conversation: { id: 'a:chat-alex' } },
    activityId: 'activity-1',
    error: null,
    at: '2026-11-20T09:00:01.000Z',
  });
  await store.approvalRequests.recordPendingNotice({
    requestId: open.id,
    requesterId: DEMO.users.megan.id,
    requestVersion: 1,
    notice: null,
    redeemUrl: null,
    error: 'throttled',
    at: '2026-11-20T09:00:02.000Z',
  });
  // A decided one.
  const decided = await store.approvalRequests.create(approvalInput('decided'));
  await store.approvalRequests.decide(decided.id, 1, { state: 'rejected', by: alex, note: 'not this one', at: '2026-11-21T09:00:00.000Z' });
  // An open reset request (audited).
  const reset = await store.resetRequests.submit({
    tenantId: DEMO.tenantId,
    userId: 'guest-jordan',
    userName: 'Jordan Guest',
    email: 'jordan@fabrikam.com',
    redeemedWith: 'emailOneTimePasscode',
    reason: 'Their organisation now has Microsoft Entra ID.',
  });
  // A running bulk job with three rows, one of them done.
  const draft = await store.bulkJobs.createDraft({
    tenantId: DEMO.tenantId,
    requestedBy: { id: DEMO.users.megan.id, name: DEMO.users.megan.displayName },
    conversationId: 'a:chat-megan',
    defaultSite: null,
    summary: {
      sourceName: 'partners.csv',
      format: 'script',
      rows: 3,
      valid: 3,
      invalid: 0,
      invalidRows: [],
      duplicates: 0,
      internal: 0,
      blocked: 0,
      alreadyDone: 0,
      needsApproval: 0,
      approvalReasons: [],
      methods: { emailOneTimePasscode: 3 },
      sites: [{ siteName: 'Project Falcon', rows: 3 }],
      toSend: 3,
    },
  });
  await store.bulkJobs.insertRows(draft.id, [bulkRow(1), bulkRow(2), bulkRow(3)]);
  await store.bulkJobs.transition(draft.id, ['draft'], { state: 'queued' });
  await store.bulkJobs.transition(draft.id, ['queued'], { state: 'running', leaseOwner: 'a-process-long-gone', leaseUntil: Date.now() + 60_000 });
  await store.bulkJobs.updateRow(draft.id, 1, { state: 'invited', userId: 'user-p1', error: 'success', attempts: 1 });
  await store.audit.append({ actorId: DEMO.users.megan.id, actorName: 'Megan Bowen', action: 'invite.sent', subjectType: 'invitation', subjectId: 'moved0', details: { n: 1 } });
  const secret = await store.resultsLinkSecret.getOrCreate();
  // The guest lifecycle: Jane accepted and was reminded of her renewal once; Sam never redeemed.
  const access: string[] = [];
  for (const [userId, name] of [['u-jane', 'Jane'], ['u-sam', 'Sam']] as const) {
    const { record } = await store.guestAccess.claim({
      tenantId: DEMO.tenantId,
      groupId: DEMO.groups.projectFalcon.id,
      userId,
      siteName: 'Project Falcon',
      siteUrl: 'https://contoso.sharepoint.com/sites/ProjectFalcon',
      email: `${name}@Fabrikam.com`,
      displayName: name,
      invitationRecordId: null,
      sponsor: { id: DEMO.users.megan.id, name: DEMO.users.megan.displayName },
      invitedAt: userId === 'u-jane' ? '2026-06-01T09:00:00.000Z' : '2026-11-20T09:00:00.000Z',
      acceptedAt: null,
      endsAt: '2026-12-10T09:00:00.000Z',
      state: 'invited',
      nextUnredeemedReminderAt: null,
    });
    access.push(record.id);
    if (userId === 'u-jane') await store.guestAccess.update(record.id, record.version, { state: 'accepted', acceptedAt: '2026-06-02T09:00:00.000Z', renewalRemindersSent: [14] });
  }
  await store.scheduledWork.schedule({ kind: 'lifecycle.renewalReminder', subject: access[0] as string, dueAt: '2026-12-09T09:00:00.000Z', payload: { daysBefore: 1 } });
  await store.scheduledWork.schedule({ kind: 'lifecycle.unredeemedReminder', subject: access[1] as string, dueAt: '2000-01-01T00:00:00.000Z' });
  await store.scheduledWork.claimDue('a-process-long-gone', { leaseMs: 60 * 60_000, limit: 5 });
  // An access review of Project Falcon, its card sent to Megan, not decided yet.
  const { round } = await store.reviewRounds.create({
    id: `${DEMO.tenantId.toLowerCase()}.${DEMO.groups.projectFalcon.id.toLowerCase()}.20261101T000000Z`,
    tenantId: DEMO.tenantId,
    groupId: DEMO.groups.projectFalcon.id,
    siteName: 'Project Falcon',
    siteUrl: 'https://contoso.sharepoint.com/sites/ProjectFalcon',
    trigger: 'schedule',
    period: '2026-11-01T00:00:00.000Z',
    startedBy: null,
    startedAt: '2026-11-01T00:00:00.000Z',
    escalateAt: '2026-11-15T00:00:00.000Z',
    guests: [{ userId: 'u-jane', accessId: access[0] as string, displayName: 'Jane', email: 'Jane@Fabrikam.com' }],
  });
  await store.reviewRounds.update(round.id, round.version, {
    deliveries: [{ userId: DEMO.users.megan.id, name: DEMO.users.megan.displayName, as: 'owner', at: '2026-11-01T00:01:00.000Z', outcome: 'sent' }],
  });
  store.close();
  return { review: round.id, access, openApproval: open.id, decidedApproval: decided.id, resetRequest: reset.request.id, bulkJob: draft.id, secret };
}

const azurite = useAzurite();

describe('migrating the embedded store into Azure Storage (Azurite)', () => {
  it('copies every kind of record with its id, and a second run copies nothing', async () => {
    const file = tempDatabaseFile();
    const seeded = await embeddedStoreWithData(file);
    const target = openAzureStore({ account: azurite.account() });
    const source = openStore({ file });
    try {
      const before = {
        invitations: await source.invitations.listByState(['pending', 'invited', 'completed', 'partial', 'failed'], { limit: -1 }),
        open: await source.approvalRequests.get(seeded.openApproval),
        decided: await source.approvalRequests.get(seeded.decidedApproval),
        deliveries: await source.approvalRequests.listDeliveries(seeded.openApproval),
        notices: await source.approvalRequests.listNotices(seeded.openApproval),
        reset: await source.resetRequests.findOpen(DEMO.tenantId, 'guest-jordan'),
        job: await source.bulkJobs.get(seeded.bulkJob),
        rows: await source.bulkJobs.rowsAfter(seeded.bulkJob, 0, 100),
        audit: await source.audit.list({ limit: 1000 }),
        access: await source.guestAccess.listByTenant(DEMO.tenantId),
        work: await source.scheduledWork.list(),
        review: await source.reviewRounds.get(seeded.review),
      };
      expect(before.review).toMatchObject({ version: 2, deliveries: [{ outcome: 'sent' }] });
      expect(before.work.find((w) => w.kind === 'lifecycle.unredeemedReminder')?.claimedBy).toBe('a-process-long-gone');
      expect(before.audit.map((e) => e.action)).toEqual(expect.arrayContaining(['redemptionReset.requested', 'invite.sent']));

      const first = await migrateStore(source, target);
      expect(first).toMatchObject({
        botState: { found: 2, copied: 2, present: 0 },
        conversationReferences: { found: 2, copied: 2, present: 0 },
        invitations: { found: 3, copied: 3, present: 0 },
        approvalRequests: { found: 2, copied: 2, present: 0, deliveries: 1, notices: 1 },
        resetRequests: { found: 1, copied: 1, present: 0 },
        bulkJobs: { found: 1, copied: 1, present: 0, rows: 3 },
        auditEvents: { found: before.audit.length, copied: before.audit.length, present: 0 },
        resultsLinkSecret: { found: 1, copied: 1, present: 0 },
        guestAccess: { found: 2, copied: 2, present: 0 },
        scheduledWork: { found: 2, copied: 2, present: 0 },
        reviewRounds: { found: 1, copied: 1, present: 0 },
      });

      // What the bot reads after the move: the dialog where it was, the chats ...
      const state = await target.botStorage.read(['msteams/conversations/a:chat-megan']);
      expect(state['msteams/conversations/a:chat-megan']).toMatchObject({ DialogState: { dialogStack: [{ id: 'inviteGuest' }] } });
      expect((await target.conversationReferences.getPersonal(DEMO.users.adele.id))?.conversationId).toBe(personalReference('adele').conversation?.id);
      // ... the invitation records under their own ids (by id and by key), a stale lock dropped ...
      for (const record of before.invitations) {
        const expected = { ...record, lockedBy: null, lockedUntil: null };
        expect(await target.invitations.get(record.id)).toEqual(expected);
        expect(await target.invitations.findByKey(record)).toEqual(expected);
      }
      expect((await target.invitations.listByRequester(DEMO.tenantId, DEMO.users.megan.id, { limit: -1 })).map((r) => r.id).sort()).toEqual(
        before.invitations.map((r) => r.id).sort(),
      );
      // ... the approvals as they were, the open one still found, decided and delivered to ...
      expect(await target.approvalRequests.get(seeded.openApproval)).toEqual(before.open);
      expect(await target.approvalRequests.get(seeded.decidedApproval)).toEqual(before.decided);
      expect(await target.approvalRequests.listDeliveries(seeded.openApproval)).toEqual(before.deliveries);
      expect(await target.approvalRequests.listNotices(seeded.openApproval)).toEqual(before.notices);
      expect((await target.approvalRequests.listPending(DEMO.tenantId)).map((r) => r.id)).toEqual([seeded.openApproval]);
      expect((await target.approvalRequests.findPendingInvitation(DEMO.tenantId, 'open@fabrikam.com', DEMO.groups.projectFalcon.id))?.id).toBe(seeded.openApproval);
      expect((await target.approvalRequests.listPendingNoticesFor(DEMO.users.megan.id)).map((n) => n.id)).toEqual(before.notices.map((n) => n.id));
      expect((await target.approvalRequests.listCardCopies(seeded.openApproval)).map((d) => d.activityId)).toEqual(['activity-1']);
      const decision = await target.approvalRequests.decide(seeded.openApproval, 1, { state: 'approved', by: alex, note: null, at: '2026-11-22T09:00:00.000Z' });
      expect(decision.won).toBe(true);
      // ... the open reset request, and its guard (a second submit finds it) ...
      expect(await target.resetRequests.findOpen(DEMO.tenantId, 'guest-jordan')).toEqual(before.reset);
      const again = await target.resetRequests.submit({ ...(before.reset as NonNullable<typeof before.reset>), reason: 'again' });
      expect(again).toMatchObject({ alreadyOpen: true, request: { id: seeded.resetRequest } });
      // ... the running job (its old lease dropped, so an instance here resumes it) with its rows ...
      expect(await target.bulkJobs.get(seeded.bulkJob)).toEqual({ ...before.job, leaseOwner: null, leaseUntil: null });
      expect((await target.bulkJobs.listActive()).map((j) => j.id)).toEqual([seeded.bulkJob]);
      expect(await target.bulkJobs.rowsAfter(seeded.bulkJob, 0, 100)).toEqual(before.rows);
      expect(await target.bulkJobs.counts(seeded.bulkJob)).toMatchObject({ invited: 1, pending: 2 });
      // ... the audit history in its order, and the same results-link secret.
      // (Their positions are the old ones, below any the Azure log gives: they list first, in order.)
      expect((await target.audit.list({ limit: 1000 })).slice(0, before.audit.length)).toEqual(before.audit);
      // (Read by another instance on the same account, as the bot started after the move would.)
      const fresh = openAzureStore({ account: target.account });
      try {
        expect((await fresh.resultsLinkSecret.getOrCreate()).equals(seeded.secret)).toBe(true);
      } finally {
        await fresh.close();
      }

      // ... the guest access records under their ids, in every list, updatable at their version ...
      expect(await target.guestAccess.listByTenant(DEMO.tenantId)).toEqual(before.access);
      for (const record of before.access) {
        expect(await target.guestAccess.get(record.id)).toEqual(record);
        expect(await target.guestAccess.findByKey(record)).toEqual(record);
      }
      expect(await target.guestAccess.listBySponsor(DEMO.tenantId, DEMO.users.megan.id)).toEqual(before.access);
      expect((await target.guestAccess.listByEmail(DEMO.tenantId, 'jane@fabrikam.com')).map((r) => r.id)).toEqual([seeded.access[0]]);
      const jane = before.access.find((r) => r.id === seeded.access[0]);
      expect(jane).toMatchObject({ state: 'accepted', renewalRemindersSent: [14], version: 2 });
      expect(await target.guestAccess.update(jane!.id, jane!.version, { renewals: 1 })).toMatchObject({ renewals: 1, version: 3 });
      // ... and the schedule: due times and payloads as they were, the gone process's claim dropped,
      // so the overdue reminder is claimed at once on Azure.
      expect(await target.scheduledWork.list()).toEqual(before.work.map((w) => ({ ...w, claimedBy: null, claimedUntil: null })));
      expect((await target.scheduledWork.listBySubject(seeded.access[0] as string)).map((w) => w.payload)).toEqual([{ daysBefore: 1 }]);
      const due = await target.scheduledWork.claimDue(target.holders.holderId, { leaseMs: 60_000, limit: 5 });
      expect(due.map((w) => w.kind)).toEqual(['lifecycle.unredeemedReminder']);
      // ... and the review round as it was: found for its site, its card's decision taken once.
      expect(await target.reviewRounds.get(seeded.review)).toEqual(before.review);
      expect((await target.reviewRounds.listBySite(DEMO.tenantId, DEMO.groups.projectFalcon.id)).map((r) => r.id)).toEqual([seeded.review]);
      const keep = { userId: 'u-jane', decision: 'keep' as const, by: { id: DEMO.users.megan.id, name: 'Megan Bowen' }, as: 'owner' as const, at: '2026-11-22T09:00:00.000Z', outcome: 'kept' as const, accessId: null, note: null };
      expect(await target.reviewRounds.update(seeded.review, 2, { decisions: [keep] })).toMatchObject({ version: 3 });
      expect(await target.reviewRounds.update(seeded.review, 2, { decisions: [keep, keep] })).toBeNull();

      const auditCount = (await target.audit.list({ limit: 1000 })).length;
      const second = await migrateStore(source, target);
      const copied = [
        second.botState,
        second.conversationReferences,
        second.invitations,
        second.approvalRequests,
        second.resetRequests,
        second.bulkJobs,
        second.auditEvents,
        second.resultsLinkSecret,
        second.guestAccess,
        second.scheduledWork,
        second.reviewRounds,
      ].map((c) => c.copied);
      expect(copied).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      // The decision taken on the target stands: a second run does not put the undecided round back.
      expect((await target.reviewRounds.get(seeded.review))?.decisions).toHaveLength(1);
      // The renewal made on the target and the claim taken there stand: a second run puts nothing back.
      expect((await target.guestAccess.get(seeded.access[0] as string))?.renewals).toBe(1);
      expect((await target.scheduledWork.get('lifecycle.unredeemedReminder', seeded.access[1] as string))?.claimedBy).toBe(target.holders.holderId);
      expect(second.auditEvents.present).toBe(before.audit.length);
      expect((await target.audit.list({ limit: 1000 })).length).toBe(auditCount);
      // The decision made on the target stands: a second run does not put the old state back.
      expect((await target.approvalRequests.get(seeded.openApproval))?.state).toBe('approved');

      const report = describeReport(second);
      expect(report).toContain('invitation records: 0 copied, 3 already there (3 in the embedded store)');
      expect(report).toContain('approval requests: 0 copied, 2 already there (2 in the embedded store, with 1 deliveries and 1 requester notices)');
      expect(report).toContain('bulk jobs: 0 copied, 1 already there (1 in the embedded store, with 3 rows)');
      expect(describeReport(first)).toContain('results-link secret: copied');
      expect(describeReport(first)).toContain(`audit events: ${before.audit.length} copied, 0 already there`);
      expect(describeReport(first)).toContain('guest access records: 2 copied, 0 already there (2 in the embedded store)');
      expect(report).toContain('scheduled work (reminders, ends, sweeps): 0 copied, 2 already there (2 in the embedded store)');
      expect(describeReport(first)).toContain('access review rounds: 1 copied, 0 already there (1 in the embedded store)');
    } finally {
      source.close();
      await target.close();
    }
  });

  it('leaves what a bot already running on the account made: its secret, an invitation, a guest access record and scheduled work of the same key', async () => {
    const file = tempDatabaseFile();
    const seeded = await embeddedStoreWithData(file);
    const target = openAzureStore({ account: azurite.account() });
    const source = openStore({ file });
    try {
      const own = await target.resultsLinkSecret.getOrCreate();
      const key = { tenantId: DEMO.tenantId, emailNormalised: 'moved1@fabrikam.com', groupId: DEMO.groups.projectFalcon.id };
      const { record: theirs } = await target.invitations.claim({
        ...key,
        emailDisplay: 'moved1@fabrikam.com',
        displayName: 'Moved 1',
        siteName: 'Project Falcon',
        siteUrl: 'https://contoso.sharepoint.com/sites/ProjectFalcon',
        requestedBy: { id: DEMO.users.adele.id, name: DEMO.users.adele.displayName },
      });
      const samKey = { tenantId: DEMO.tenantId, groupId: DEMO.groups.projectFalcon.id, userId: 'u-sam' };
      const { record: theirSam } = await target.guestAccess.claim({
        ...samKey,
        siteName: 'Project Falcon',
        siteUrl: 'https://contoso.sharepoint.com/sites/ProjectFalcon',
        email: 'sam@fabrikam.com',
        displayName: 'Sam',
        invitationRecordId: null,
        sponsor: { id: DEMO.users.adele.id, name: DEMO.users.adele.displayName },
        invitedAt: '2026-11-25T09:00:00.000Z',
        acceptedAt: null,
        endsAt: null,
        state: 'invited',
        nextUnredeemedReminderAt: null,
      });
      const { work: theirWork } = await target.scheduledWork.schedule({ kind: 'lifecycle.renewalReminder', subject: seeded.access[0] as string, dueAt: '2026-12-31T00:00:00.000Z' });
      const report = await migrateStore(source, target);
      expect(report.guestAccess).toEqual({ found: 2, copied: 1, present: 1 });
      expect(report.scheduledWork).toEqual({ found: 2, copied: 1, present: 1 });
      expect(await target.guestAccess.findByKey(samKey)).toEqual(theirSam);
      expect(await target.scheduledWork.get('lifecycle.renewalReminder', seeded.access[0] as string)).toEqual(theirWork);
      expect(report.invitations).toEqual({ found: 3, copied: 2, present: 1 });
      expect(report.resultsLinkSecret).toEqual({ found: 1, copied: 0, present: 1 });
      expect(await target.invitations.findByKey(key)).toEqual(theirs);
      expect((await target.resultsLinkSecret.getOrCreate()).equals(own)).toBe(true);
      expect(own.equals(seeded.secret)).toBe(false);
      expect(describeReport(report)).toContain('results-link secret: the target has its own already, kept');
    } finally {
      source.close();
      await target.close();
    }
  });
});
