/**
 * Rights refusals are on the record. Through the whole bot (every feature as the app wires it,
 * on the demo tenant), someone without the right clicks a button of a card that is not theirs to
 * act on, or asks for something they may not have: what the card is about stays as it was, and
 * the audit log gains exactly one `<domain>.refused` event naming who, what and why not.
 *
 * Adele Vance is a member of the organisation who owns no site and is no guest approver; Megan
 * Bowen owns Project Falcon and sponsors its guests; Alex Wilber is a guest approver.
 */
import type { AuditEvent } from '../../../src/usecases/ports/auditLog';
import { jobIdOf } from '../../support/bulkBot';
import { DEMO, DEMO_LIFECYCLE, actionData, lifecycleBot, replyCard, textOf, type LifecycleBot, type Person } from '../../support/lifecycleBot';

jest.setTimeout(60_000);

const falcon = DEMO.groups.projectFalcon;
const { megan, adele } = DEMO.users;

/** What a case clicks (or says), and the state of what it is about (which must not change). */
interface Arranged {
  act: () => Promise<string>;
  /** Everything the click could have changed, read from the store. */
  state: () => Promise<unknown>;
  subjectId: string;
}

interface RefusalCase {
  name: string;
  env?: Record<string, string>;
  as: Person;
  action: string;
  subjectType: string;
  attempted: string;
  reason: string;
  /** What the person is told. */
  says: RegExp;
  arrange: (bot: LifecycleBot, as: Person) => Promise<Arranged>;
}

const cardTo = (bot: LifecycleBot, who: Person, text: string): Record<string, unknown> => {
  const card = bot.cardsTo(who).find((c) => textOf(c).includes(text));
  if (!card) throw new Error(`${who} got no card saying "${text}"`);
  return card;
};

const click = async (bot: LifecycleBot, verb: string, data: Record<string, unknown>, as: Person): Promise<string> => textOf((await bot.click(verb, data, as)).value);

/** An invitation request by Megan waiting for an approver, as the approvals' intake records it. */
async function pendingInvitationRequest(bot: LifecycleBot): Promise<string> {
  const now = bot.clock.now();
  const request = await bot.store.approvalRequests.create({
    tenantId: DEMO.tenantId,
    requester: { userId: megan.id, name: megan.displayName, tenantId: DEMO.tenantId },
    requesterConversationId: null,
    subject: {
      kind: 'invitation',
      guestName: 'Ana Silva',
      guestEmail: 'ana@example.org',
      groupId: falcon.id,
      siteName: falcon.displayName,
      siteUrl: falcon.siteUrl,
      signInMethod: null,
      signInSummary: null,
      warnings: [],
    },
    justification: 'Supplier onboarding',
    reasons: ['Policy: every invitation needs an approver.'],
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + 14 * 86_400_000).toISOString(),
  });
  return request.id;
}

async function approvalCase(bot: LifecycleBot, as: Person, verb: string): Promise<Arranged> {
  const id = await pendingInvitationRequest(bot);
  const state = async () => {
    const r = await bot.store.approvalRequests.get(id);
    return { state: r?.state, version: r?.version, decidedBy: r?.decidedBy };
  };
  return { subjectId: id, state, act: () => click(bot, verb, { requestId: id, version: 1, reason: 'Not needed' }, as) };
}

const accessState = (bot: LifecycleBot, guest: keyof typeof DEMO_LIFECYCLE.guests) => async () => {
  const { updatedAt, version, state, endsAt, keptWaitingFor, renewals, renewalRemindersSent } = await bot.access(guest);
  return { updatedAt, version, state, endsAt, keptWaitingFor, renewals, renewalRemindersSent };
};

/** A click of `verb` on `card`, a card about `guest`'s access. */
async function accessCardCase(bot: LifecycleBot, as: Person, guest: keyof typeof DEMO_LIFECYCLE.guests, card: Record<string, unknown>, verb: string): Promise<Arranged> {
  return { subjectId: (await bot.access(guest)).id, state: accessState(bot, guest), act: () => click(bot, verb, actionData(card, verb), as) };
}

/** A click on the lifecycle card Megan got about `guest` (the one saying `cardText`). */
const lifecycleCardCase = (bot: LifecycleBot, as: Person, guest: keyof typeof DEMO_LIFECYCLE.guests, cardText: string, verb: string): Promise<Arranged> =>
  accessCardCase(bot, as, guest, cardTo(bot, 'megan', cardText), verb);

/** Nora's renewal asked by Megan under APPROVAL_POLICY=always: the request card Alex got. */
async function renewalRequest(bot: LifecycleBot): Promise<Record<string, unknown>> {
  const card = cardTo(bot, 'megan', "Nora Quinn's access to Project Falcon ends soon");
  await bot.click('lifecycle.renew', actionData(card, 'lifecycle.renew'), 'megan');
  return cardTo(bot, 'alex', "Renew Nora Quinn's access to Project Falcon?");
}

async function reviewCase(bot: LifecycleBot, as: Person, verb: string): Promise<Arranged> {
  const card = replyCard(await bot.say('review Project Falcon', 'megan'));
  const data = actionData(card, 'review.keep');
  const roundId = String(data.roundId);
  const state = async () => {
    const round = await bot.store.reviewRounds.get(roundId);
    return { version: round?.version, decisions: round?.decisions };
  };
  return { subjectId: roundId, state, act: () => click(bot, verb, data, as) };
}

async function bulkCase(bot: LifecycleBot, as: Person, verb: string): Promise<Arranged> {
  const replies = await bot.say(['bulk invite to Project Falcon', 'Name,Email', 'Ana Silva,ana@example.org', 'Bo Chen,bo@example.org'].join('\n'), 'megan');
  const jobId = jobIdOf(replies[0]?.attachments?.[0]?.content);
  const state = async () => {
    const job = await bot.store.bulkJobs.get(jobId);
    return { state: job?.state, version: job?.version };
  };
  return { subjectId: jobId, state, act: () => click(bot, verb, { jobId }, as) };
}

async function invitationCase(bot: LifecycleBot, as: Person, verb: string): Promise<Arranged> {
  const { record } = await bot.store.invitations.claim({
    tenantId: DEMO.tenantId,
    emailNormalised: 'ana@example.org',
    groupId: falcon.id,
    emailDisplay: 'ana@example.org',
    displayName: 'Ana Silva',
    siteName: falcon.displayName,
    siteUrl: falcon.siteUrl ?? '',
    requestedBy: { id: megan.id, name: megan.displayName },
  });
  const partial = await bot.store.invitations.update(record.id, record.version, { state: 'partial', userId: 'u-ana', redeemUrl: 'https://login.microsoftonline.com/redeem?rd=secret' });
  const state = async () => {
    const r = await bot.store.invitations.get(record.id);
    return { state: r?.state, version: r?.version, redeemUrl: r?.redeemUrl };
  };
  return { subjectId: (partial ?? record).id, state, act: () => click(bot, verb, { recordId: record.id }, as) };
}

const CASES: RefusalCase[] = [
  {
    name: 'Approve on an invitation approval card, by a member who is no approver',
    as: 'adele',
    action: 'approval.refused',
    subjectType: 'approval',
    attempted: 'approve',
    reason: 'notApprover',
    says: /Only members of the guest approver group can decide on this request\. Nothing was changed/,
    arrange: (bot, as) => approvalCase(bot, as, 'approval.approve'),
  },
  {
    name: 'Reject on an invitation approval card, by a member who is no approver',
    as: 'adele',
    action: 'approval.refused',
    subjectType: 'approval',
    attempted: 'reject',
    reason: 'notApprover',
    says: /Only members of the guest approver group can decide on this request\. Nothing was changed/,
    arrange: (bot, as) => approvalCase(bot, as, 'approval.reject'),
  },
  {
    name: 'Approve on her own request, by the requester',
    as: 'megan',
    action: 'approval.refused',
    subjectType: 'approval',
    attempted: 'approve',
    reason: 'ownRequest',
    says: /You made this request, so another approver has to decide it/,
    arrange: (bot, as) => approvalCase(bot, as, 'approval.approve'),
  },
  {
    name: 'Keep waiting on the unredeemed reminder, by someone neither sponsor nor owner',
    as: 'adele',
    action: 'guestAccess.refused',
    subjectType: 'guestAccess',
    attempted: 'keepWaiting',
    reason: 'notSponsorOrOwner',
    says: /Only the sponsor of Isabel Ruiz or an owner of Project Falcon can do that/,
    arrange: (bot, as) => lifecycleCardCase(bot, as, 'unredeemed', 'Isabel Ruiz has not accepted', 'lifecycle.keepWaiting'),
  },
  {
    name: 'Renew on the renewal reminder, by someone neither sponsor nor owner',
    as: 'adele',
    action: 'guestAccess.refused',
    subjectType: 'guestAccess',
    attempted: 'renew',
    reason: 'notSponsorOrOwner',
    says: /Only the sponsor of Nora Quinn or an owner of Project Falcon can do that/,
    arrange: (bot, as) => lifecycleCardCase(bot, as, 'endingTomorrow', "Nora Quinn's access to Project Falcon ends soon", 'lifecycle.renew'),
  },
  {
    name: 'Remove on a guest row, by someone neither sponsor nor owner',
    as: 'adele',
    action: 'guestAccess.refused',
    subjectType: 'guestAccess',
    attempted: 'remove',
    reason: 'notSponsorOrOwner',
    says: /Only the sponsor of Nora Quinn or an owner of Project Falcon can do that/,
    arrange: async (bot, as) => {
      const accessId = (await bot.access('endingTomorrow')).id;
      return { subjectId: accessId, state: accessState(bot, 'endingTomorrow'), act: () => click(bot, 'lifecycle.remove', { accessId }, as) };
    },
  },
  {
    name: 'Approve on a renewal request, by a member who is no approver',
    env: { APPROVAL_POLICY: 'always' },
    as: 'adele',
    action: 'guestAccess.refused',
    subjectType: 'guestAccess',
    attempted: 'approveRenewal',
    reason: 'notApprover',
    says: /Only members of the guest approver group can decide on this request\. Nothing was changed/,
    arrange: async (bot, as) => accessCardCase(bot, as, 'endingTomorrow', await renewalRequest(bot), 'lifecycle.approveRenewal'),
  },
  {
    name: 'Reject on a renewal request, by a member who is no approver',
    env: { APPROVAL_POLICY: 'always' },
    as: 'adele',
    action: 'guestAccess.refused',
    subjectType: 'guestAccess',
    attempted: 'rejectRenewal',
    reason: 'notApprover',
    says: /Only members of the guest approver group can decide on this request\. Nothing was changed/,
    arrange: async (bot, as) => accessCardCase(bot, as, 'endingTomorrow', await renewalRequest(bot), 'lifecycle.rejectRenewal'),
  },
  {
    name: 'Keep on an access review card, by someone neither owner nor approver',
    as: 'adele',
    action: 'accessReview.refused',
    subjectType: 'accessReview',
    attempted: 'keep',
    reason: 'notOwnerOrApprover',
    says: /Only an owner of Project Falcon or a guest approver can decide on its guests/,
    arrange: (bot, as) => reviewCase(bot, as, 'review.keep'),
  },
  {
    name: 'Remove on an access review card, by someone neither owner nor approver',
    as: 'adele',
    action: 'accessReview.refused',
    subjectType: 'accessReview',
    attempted: 'remove',
    reason: 'notOwnerOrApprover',
    says: /Only an owner of Project Falcon or a guest approver can decide on its guests/,
    arrange: (bot, as) => reviewCase(bot, as, 'review.remove'),
  },
  {
    name: '"review Project Falcon" asked by someone neither owner nor approver (answered as a wrong name)',
    as: 'adele',
    action: 'accessReview.refused',
    subjectType: 'site',
    attempted: 'start',
    reason: 'notOwnerOrApprover',
    says: /^I found no site called "Project Falcon" that you can review\. Only a site's owners and guest approvers can review its guests\.$/,
    arrange: async (bot, as) => ({
      subjectId: falcon.id,
      state: async () => bot.store.reviewRounds.listBySite(DEMO.tenantId, falcon.id, { limit: 10 }),
      act: async () => (await bot.say('review Project Falcon', as))[0]?.text ?? '',
    }),
  },
  {
    name: "Confirm on someone else's bulk invitation",
    as: 'adele',
    action: 'bulkJob.refused',
    subjectType: 'bulkJob',
    attempted: 'confirm',
    reason: 'notRequester',
    says: /Only Megan Bowen can confirm this bulk invitation\. Nothing was changed/,
    arrange: (bot, as) => bulkCase(bot, as, 'bulk.confirm'),
  },
  {
    name: "Cancel on someone else's bulk invitation",
    as: 'adele',
    action: 'bulkJob.refused',
    subjectType: 'bulkJob',
    attempted: 'cancel',
    reason: 'notRequesterOrApprover',
    says: /Only Megan Bowen or an approver can cancel this bulk invitation\. Nothing was changed/,
    arrange: (bot, as) => bulkCase(bot, as, 'bulk.cancel'),
  },
  {
    name: "Retry on someone else's invitation, by someone who does not own its site",
    as: 'adele',
    action: 'invitation.refused',
    subjectType: 'invitation',
    attempted: 'retry',
    reason: 'notOwner',
    says: /can retry it\. Nothing was changed/,
    arrange: (bot, as) => invitationCase(bot, as, 'invite.retry'),
  },
  {
    name: "Send the invitation email on someone else's invitation, by someone who does not own its site",
    as: 'adele',
    action: 'invitation.refused',
    subjectType: 'invitation',
    attempted: 'email',
    reason: 'notOwner',
    says: /Only the site's owners can invite guests to Project Falcon/,
    arrange: (bot, as) => invitationCase(bot, as, 'invite.sendEmail'),
  },
  {
    name: 'A sign-in reset asked for by a member (only guests who redeemed may ask)',
    as: 'adele',
    action: 'redemptionReset.refused',
    subjectType: 'user',
    attempted: 'request',
    reason: 'notGuest',
    says: /Only guests who have accepted their invitation can ask for a sign-in reset, so nothing was recorded/,
    arrange: async (bot, as) => ({
      subjectId: adele.id,
      state: () => bot.store.resetRequests.listOpen(DEMO.tenantId),
      act: () => click(bot, 'guestHelp.requestReset', {}, as),
    }),
  },
  {
    name: '"guests report" asked for by a member who is no approver',
    as: 'adele',
    action: 'report.refused',
    subjectType: 'report',
    attempted: 'report',
    reason: 'notApprover',
    says: /for members of the guest approver group/,
    arrange: async (bot, as) => ({
      subjectId: 'guests',
      state: async () => null,
      act: async () => textOf(await bot.say('guests report', as)),
    }),
  },
];

async function eventsAfter(bot: LifecycleBot, seq: number): Promise<AuditEvent[]> {
  return (await bot.store.audit.list({ limit: 1000 })).filter((e) => e.seq > seq);
}

describe('a click (or a request) without the right', () => {
  it('"review <a site that does not exist>" gets the same answer as a site one may not review, and is no refusal', async () => {
    const bot = await lifecycleBot();
    try {
      await bot.start();
      const last = (await bot.store.audit.list({ limit: 1 }))[0]?.seq ?? 0;
      expect((await bot.say('review Project Nowhere', 'adele'))[0]?.text).toBe(
        'I found no site called "Project Nowhere" that you can review. Only a site\'s owners and guest approvers can review its guests.',
      );
      expect(await eventsAfter(bot, last)).toEqual([]);
    } finally {
      await bot.stop();
    }
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s: changes nothing and is audited once', async (_name, c) => {
    const bot = await lifecycleBot({ env: c.env });
    try {
      for (const who of ['megan', 'alex', 'adele'] as const) await bot.chatWith(who);
      await bot.start();
      const arranged = await c.arrange(bot, c.as);
      const before = await arranged.state();
      const last = (await bot.store.audit.list({ limit: 1 }))[0]?.seq ?? 0;

      const answer = await arranged.act();

      expect(answer.replace(/\s+/g, ' ')).toMatch(c.says);
      expect(await arranged.state()).toEqual(before);
      const person = DEMO.users[c.as as keyof typeof DEMO.users];
      expect(await eventsAfter(bot, last)).toEqual([
        expect.objectContaining({
          action: c.action,
          actorId: person.id,
          actorName: person.displayName,
          subjectType: c.subjectType,
          subjectId: arranged.subjectId,
          details: expect.objectContaining({ attempted: c.attempted, reason: c.reason }),
        }),
      ]);
      // No guest's address, link or token in a refusal.
      const [event] = await eventsAfter(bot, last);
      expect(JSON.stringify(event?.details)).not.toMatch(/@|redeem|https?:/i);
    } finally {
      await bot.stop();
    }
  });
});

/**
 * A click from someone Teams did not identify (the activity carries no from.aadObjectId): every
 * feature refuses it, and it is on the record as that feature's refusals are, with reason
 * 'unidentified' and an actor that names no one (not the channel account, not the name sent).
 */
interface UnidentifiedCase {
  name: string;
  env?: Record<string, string>;
  action: string;
  subjectType: string;
  attempted: string;
  arrange: (bot: LifecycleBot) => Promise<Arranged>;
}

const UNIDENTIFIED_CASES: UnidentifiedCase[] = [
  { name: 'Approve on an approval card', action: 'approval.refused', subjectType: 'approval', attempted: 'approve', arrange: (bot) => approvalCase(bot, 'unidentified', 'approval.approve') },
  { name: 'Reject on an approval card', action: 'approval.refused', subjectType: 'approval', attempted: 'reject', arrange: (bot) => approvalCase(bot, 'unidentified', 'approval.reject') },
  {
    name: 'Keep waiting on the unredeemed reminder',
    action: 'guestAccess.refused',
    subjectType: 'guestAccess',
    attempted: 'keepWaiting',
    arrange: (bot) => lifecycleCardCase(bot, 'unidentified', 'unredeemed', 'Isabel Ruiz has not accepted', 'lifecycle.keepWaiting'),
  },
  {
    name: 'Remove on a guest row',
    action: 'guestAccess.refused',
    subjectType: 'guestAccess',
    attempted: 'remove',
    arrange: async (bot) => {
      const accessId = (await bot.access('endingTomorrow')).id;
      return { subjectId: accessId, state: accessState(bot, 'endingTomorrow'), act: () => click(bot, 'lifecycle.remove', { accessId }, 'unidentified') };
    },
  },
  {
    name: 'Approve on a renewal request (the subject is the access the request is for)',
    env: { APPROVAL_POLICY: 'always' },
    action: 'guestAccess.refused',
    subjectType: 'guestAccess',
    attempted: 'approveRenewal',
    arrange: async (bot) => accessCardCase(bot, 'unidentified', 'endingTomorrow', await renewalRequest(bot), 'lifecycle.approveRenewal'),
  },
  { name: 'Keep on an access review card', action: 'accessReview.refused', subjectType: 'accessReview', attempted: 'keep', arrange: (bot) => reviewCase(bot, 'unidentified', 'review.keep') },
  { name: 'Keep all on an access review card', action: 'accessReview.refused', subjectType: 'accessReview', attempted: 'keepAll', arrange: (bot) => reviewCase(bot, 'unidentified', 'review.keepAll') },
  { name: 'Confirm on a bulk invitation', action: 'bulkJob.refused', subjectType: 'bulkJob', attempted: 'confirm', arrange: (bot) => bulkCase(bot, 'unidentified', 'bulk.confirm') },
  { name: 'Cancel on a bulk invitation', action: 'bulkJob.refused', subjectType: 'bulkJob', attempted: 'cancel', arrange: (bot) => bulkCase(bot, 'unidentified', 'bulk.cancel') },
  { name: 'Retry on an invitation', action: 'invitation.refused', subjectType: 'invitation', attempted: 'retry', arrange: (bot) => invitationCase(bot, 'unidentified', 'invite.retry') },
  { name: 'Send the invitation email', action: 'invitation.refused', subjectType: 'invitation', attempted: 'email', arrange: (bot) => invitationCase(bot, 'unidentified', 'invite.sendEmail') },
  {
    name: 'A sign-in reset (no account to name: the subject is unknown)',
    action: 'redemptionReset.refused',
    subjectType: 'user',
    attempted: 'request',
    arrange: async (bot) => ({
      subjectId: 'unknown',
      state: () => bot.store.resetRequests.listOpen(DEMO.tenantId),
      act: () => click(bot, 'guestHelp.requestReset', {}, 'unidentified'),
    }),
  },
];

describe('a click from someone Teams did not identify', () => {
  it.each(UNIDENTIFIED_CASES.map((c) => [c.name, c] as const))('%s: changes nothing and is audited once, naming no one', async (_name, c) => {
    const bot = await lifecycleBot({ env: c.env });
    try {
      for (const who of ['megan', 'alex', 'adele'] as const) await bot.chatWith(who);
      await bot.start();
      const arranged = await c.arrange(bot);
      const before = await arranged.state();
      const last = (await bot.store.audit.list({ limit: 1 }))[0]?.seq ?? 0;

      const answer = await arranged.act();

      expect(answer.replace(/\s+/g, ' ')).toMatch(/nothing was (changed|sent|recorded)|can't tell who you are|could not tell who you are|not available|only/i);
      expect(await arranged.state()).toEqual(before);
      const events = await eventsAfter(bot, last);
      expect(events).toEqual([
        expect.objectContaining({
          action: c.action,
          actorId: 'unidentified',
          actorName: 'Unidentified',
          subjectType: c.subjectType,
          subjectId: arranged.subjectId,
          details: { attempted: c.attempted, reason: 'unidentified' },
        }),
      ]);
      // Neither the channel account nor the name the activity carried is recorded.
      expect(JSON.stringify(events)).not.toMatch(/29:mri|Someone/);
    } finally {
      await bot.stop();
    }
  });

  it('a click that only shows a card (Refresh) is refused and, as for anyone, not recorded', async () => {
    const bot = await lifecycleBot();
    try {
      await bot.start();
      const arranged = await approvalCase(bot, 'unidentified', 'approval.refresh');
      const last = (await bot.store.audit.list({ limit: 1 }))[0]?.seq ?? 0;
      await arranged.act();
      expect(await eventsAfter(bot, last)).toEqual([]);
    } finally {
      await bot.stop();
    }
  });

  it('every button of every feature says what its click attempts (or that it only shows a card)', async () => {
    const bot = await lifecycleBot();
    try {
      for (const feature of bot.features) {
        const verbs = Object.keys(feature.actions ?? {});
        expect([feature.name, Object.keys(feature.refusedClicks ?? {}).sort()]).toEqual([feature.name, verbs.sort()]);
      }
    } finally {
      await bot.stop();
    }
  });
});
