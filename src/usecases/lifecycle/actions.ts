import type { Actor } from '../../domain/actor';
import { approvalVerdict } from '../../domain/approvalPolicy';
import { DAY_MS, isActive, renewedEnd, renewalReminderTimes, type AccountAction } from '../../domain/lifecycle';
import { adminInstructions, needsAdmin } from './adminInstructions';
import { beginEnd, completeEnd } from './ending';
import { AUDIT_SUBJECT, guestDomainOf, refused, summarise, type ActionOutcome, type LifecycleDeps, type Refusal } from './model';
import type { AdminInstructions, GuestAccessRecord, Sponsor } from './ports';
import { rolesOver } from './rights';
import { markAccepted, syncSchedule } from './schedule';

/**
 * What a sponsor or an owner does on a lifecycle card or in chat. Every action re-reads the
 * record and re-checks the clicker's rights (never the card's word), and is idempotent: the
 * card carries a token (the reminder's time, or the end date it is about), so a double click, a
 * replayed invoke or two instances acting at once change things once and then answer "already".
 */

const actorAsSponsor = (actor: Actor): Sponsor => ({ id: actor.userId, name: actor.name });

type Loaded = { record: GuestAccessRecord } | { refusal: Refusal };

/** What a person tried on a guest's access (the `attempted` of a guestAccess.refused event). */
export type LifecycleAttempt = 'resend' | 'keepWaiting' | 'withdraw' | 'remove' | 'renew' | 'letEnd' | 'handOver' | 'approveRenewal' | 'rejectRenewal';

/** The record, when it exists and the actor is its sponsor or an owner of its site. */
async function loadForSteward(deps: LifecycleDeps, actor: Actor, accessId: string, attempted: LifecycleAttempt): Promise<Loaded> {
  const record = await deps.access.get(accessId);
  // Another tenant's record is "not found", not "not allowed": it says nothing about it.
  if (!record || record.tenantId !== actor.tenantId) return { refusal: refused('notFound', 'I could not find that guest any more.') };
  const roles = await rolesOver(deps, actor, record);
  if (!roles.has('sponsor') && !roles.has('owner')) {
    await auditRefusal(deps, actor, record.id, attempted, 'notSponsorOrOwner');
    return { refusal: refused('notAllowed', `Only the sponsor of ${record.displayName} or an owner of ${record.siteName} can do that.`) };
  }
  return { record };
}

async function audit(deps: LifecycleDeps, actor: Actor, action: string, record: GuestAccessRecord, details: Record<string, string | number | boolean | null>): Promise<void> {
  await deps.audit.append({ actorId: actor.userId, actorName: actor.name, action, subjectType: AUDIT_SUBJECT, subjectId: record.id, details });
}

/**
 * Someone without the right clicked (or asked): on the record, nothing else changes. The refusal
 * the person sees does not wait on the audit log, so a failed append is logged, not thrown.
 */
async function auditRefusal(deps: LifecycleDeps, actor: Actor, accessId: string, attempted: LifecycleAttempt, reason: string, extra: Record<string, string> = {}): Promise<void> {
  try {
    await deps.audit.append({ actorId: actor.userId, actorName: actor.name, action: `${AUDIT_SUBJECT}.refused`, subjectType: AUDIT_SUBJECT, subjectId: accessId, details: { attempted, reason, ...extra } });
  } catch (error) {
    deps.logger?.warn({ accessId, attempted, err: error instanceof Error ? error.name : 'error' }, 'lifecycle: refusal not audited');
  }
}

function endedMessage(record: GuestAccessRecord): string {
  return `${record.displayName}'s access to ${record.siteName} has already ended.`;
}

// ---------- Resend ----------

export interface ResendInput {
  accessId: string;
  /** The reminder the card answers (UnredeemedReminderNotice.reminderToken), or any fresh token from "my guests". */
  reminderToken: string;
  /** Have Microsoft email the invitation too (the bot shows the link either way). */
  sendEmail: boolean;
}

/**
 * A fresh invitation for a guest who has not redeemed: a new link (the old one stops mattering),
 * Microsoft's email optional. The reminder and auto-withdraw clocks start over. Once per card.
 */
export async function resendInvitation(deps: LifecycleDeps, actor: Actor, input: ResendInput): Promise<ActionOutcome<{ redeemUrl: string | null }>> {
  const loaded = await loadForSteward(deps, actor, input.accessId, 'resend');
  if ('refusal' in loaded) return loaded.refusal;
  let record = loaded.record;
  if (record.resentFor === input.reminderToken) {
    return { kind: 'already', access: summarise(deps, record), redeemUrl: record.redeemUrl, message: `A new invitation was already sent to ${record.displayName}.` };
  }
  if (record.state === 'accepted') return { kind: 'already', access: summarise(deps, record), message: `${record.displayName} has already accepted the invitation.` };
  if (!isActive(record.state)) return refused('notActive', endedMessage(record));
  const facts = await deps.accounts.lifecycleFacts(record.userId);
  if (facts?.externalUserState === 'Accepted') {
    const accepted = (await markAccepted(deps, record, facts)) ?? record;
    return { kind: 'already', access: summarise(deps, accepted), message: `${record.displayName} has already accepted the invitation.` };
  }
  // Claim the resend first (compare-and-set): of two clicks only one invites again.
  const previousToken = record.resentFor;
  const claimed = await deps.access.update(record.id, record.version, { resentFor: input.reminderToken });
  if (!claimed) {
    const current = await deps.access.get(record.id);
    if (current?.resentFor === input.reminderToken) {
      return { kind: 'already', access: summarise(deps, current), redeemUrl: current.redeemUrl, message: `A new invitation is on its way to ${current.displayName}.` };
    }
    return refused('notActive', 'That guest changed meanwhile; please look again.');
  }
  record = claimed;
  let redeemUrl: string;
  try {
    ({ redeemUrl } = await deps.accounts.reinvite({
      userId: record.userId,
      email: record.email,
      displayName: record.displayName,
      redirectUrl: record.siteUrl,
      sendEmail: input.sendEmail,
    }));
  } catch (error) {
    // Give the click back so it can be tried again (or by an admin).
    const current = (await deps.access.get(record.id)) ?? record;
    await deps.access.update(current.id, current.version, { resentFor: previousToken });
    if (needsAdmin(error)) {
      return { kind: 'needsAdmin', access: summarise(deps, record), instructions: [adminInstructions('reinvite', record, error)], message: 'The bot may not invite again here; an admin can.' };
    }
    throw error;
  }
  const now = deps.clock.now();
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const updated = await deps.access.update(record.id, record.version, {
      redeemUrl,
      lastInvitedAt: now.toISOString(),
      nextUnredeemedReminderAt: deps.settings.unredeemedReminderDays > 0 ? new Date(now.getTime() + deps.settings.unredeemedReminderDays * DAY_MS).toISOString() : null,
    });
    if (updated) {
      record = updated;
      break;
    }
    record = (await deps.access.get(record.id)) ?? record;
  }
  await syncSchedule(deps, record);
  await audit(deps, actor, 'guestAccess.resent', record, { emailed: input.sendEmail });
  return { kind: 'done', access: summarise(deps, record), redeemUrl };
}

// ---------- Keep waiting ----------

export async function keepWaiting(
  deps: LifecycleDeps,
  actor: Actor,
  input: { accessId: string; reminderToken: string },
): Promise<ActionOutcome<{ nextReminderAt: string | null }>> {
  const loaded = await loadForSteward(deps, actor, input.accessId, 'keepWaiting');
  if ('refusal' in loaded) return loaded.refusal;
  let record = loaded.record;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    if (record.keptWaitingFor === input.reminderToken) {
      return { kind: 'already', access: summarise(deps, record), nextReminderAt: record.nextUnredeemedReminderAt, message: 'Already noted: waiting.' };
    }
    if (record.state === 'accepted') return { kind: 'already', access: summarise(deps, record), message: `${record.displayName} has accepted meanwhile.` };
    if (!isActive(record.state)) return refused('notActive', endedMessage(record));
    const days = deps.settings.unredeemedReminderDays;
    const next = days > 0 ? new Date(deps.clock.now().getTime() + days * DAY_MS).toISOString() : null;
    const updated = await deps.access.update(record.id, record.version, { keptWaitingFor: input.reminderToken, nextUnredeemedReminderAt: next });
    if (updated) {
      await syncSchedule(deps, updated);
      // Only the click that wrote keptWaitingFor gets here: a replay answers "already" above.
      await audit(deps, actor, 'guestAccess.keptWaiting', updated, { remindedAt: input.reminderToken, nextReminderAt: next });
      return { kind: 'done', access: summarise(deps, updated), nextReminderAt: next };
    }
    const current = await deps.access.get(record.id);
    if (!current) return refused('notFound', 'I could not find that guest any more.');
    record = current;
  }
  return refused('notActive', 'That guest keeps changing; please look again.');
}

// ---------- Withdraw / Remove ----------

async function endByPerson(
  deps: LifecycleDeps,
  actor: Actor,
  record: GuestAccessRecord,
  reason: 'withdrawn' | 'removed',
): Promise<ActionOutcome<{ accountAction: AccountAction }>> {
  const begun = await beginEnd(deps, record.id, { reason, by: actorAsSponsor(actor), safetyNet: true });
  if (!begun) return refused('notFound', 'I could not find that guest any more.');
  if (!begun.won) {
    return { kind: 'already', access: summarise(deps, begun.record), accountAction: begun.record.accountAction ?? undefined, message: endedMessage(begun.record) };
  }
  // completeEnd audits the end (guestAccess.ended, with the reason and who).
  const done = await completeEnd(deps, begun.record);
  return withInstructions(deps, done.record, done.accountAction, done.instructions);
}

function withInstructions(
  deps: LifecycleDeps,
  record: GuestAccessRecord,
  accountAction: AccountAction,
  instructions: AdminInstructions[],
): ActionOutcome<{ accountAction: AccountAction }> {
  if (instructions.length > 0) {
    return { kind: 'needsAdmin', access: summarise(deps, record), instructions, message: 'The bot could not do every step itself; an admin can finish it.' };
  }
  return { kind: 'done', access: summarise(deps, record), accountAction };
}

/**
 * Withdraws an invitation not yet redeemed: out of the site's group; the account is deleted only
 * if it never redeemed, has no other memberships and policy allows (GUEST_ACCOUNT_DELETE_ON_WITHDRAW).
 */
export async function withdrawInvitation(deps: LifecycleDeps, actor: Actor, input: { accessId: string }): Promise<ActionOutcome<{ accountAction: AccountAction }>> {
  const loaded = await loadForSteward(deps, actor, input.accessId, 'withdraw');
  if ('refusal' in loaded) return loaded.refusal;
  const record = loaded.record;
  if (!isActive(record.state)) {
    return { kind: 'already', access: summarise(deps, record), accountAction: record.accountAction ?? undefined, message: endedMessage(record) };
  }
  const facts = record.state === 'invited' ? await deps.accounts.lifecycleFacts(record.userId) : null;
  if (facts?.externalUserState === 'Accepted') await markAccepted(deps, record, facts);
  if (record.state === 'accepted' || facts?.externalUserState === 'Accepted') {
    return refused('notActive', `${record.displayName} has accepted the invitation, so it can no longer be withdrawn: use Remove instead.`);
  }
  return endByPerson(deps, actor, record, 'withdrawn');
}

/** Ends a guest's access to the site now, before its end date (then GUEST_REMOVAL applies as at the end). */
export async function removeGuest(deps: LifecycleDeps, actor: Actor, input: { accessId: string }): Promise<ActionOutcome<{ accountAction: AccountAction }>> {
  const loaded = await loadForSteward(deps, actor, input.accessId, 'remove');
  if ('refusal' in loaded) return loaded.refusal;
  const record = loaded.record;
  if (!isActive(record.state)) {
    return { kind: 'already', access: summarise(deps, record), accountAction: record.accountAction ?? undefined, message: endedMessage(record) };
  }
  return endByPerson(deps, actor, record, 'removed');
}

/**
 * Remove decided in an access review (usecases/reviews): the review checked the reviewer's right
 * at the click (an owner of the site now, or a guest approver the review went to), so only the
 * tenant is checked here; the end is the same as Remove's (GUEST_REMOVAL, notices, audit).
 */
export async function removeReviewedGuest(deps: LifecycleDeps, reviewer: Actor, input: { accessId: string }): Promise<ActionOutcome<{ accountAction: AccountAction }>> {
  const record = await deps.access.get(input.accessId);
  if (!record || record.tenantId !== reviewer.tenantId) return refused('notFound', 'I could not find that guest any more.');
  if (!isActive(record.state)) {
    return { kind: 'already', access: summarise(deps, record), accountAction: record.accountAction ?? undefined, message: endedMessage(record) };
  }
  return endByPerson(deps, reviewer, record, 'removed');
}

// ---------- Renew / Let it end ----------

export interface RenewInput {
  accessId: string;
  /** The end date the card is about (RenewalReminderNotice.forEndsAt, or the row's endsAt in "my guests"). */
  forEndsAt: string;
}

export type RenewOutcome =
  | ActionOutcome<{ endsAt: string | null }>
  | { kind: 'pendingApproval'; access: ReturnType<typeof summarise>; requestId: string; created: boolean; reasons: string[] };

async function applyRenewal(deps: LifecycleDeps, actor: Actor, start: GuestAccessRecord, forEndsAt: string): Promise<ActionOutcome<{ endsAt: string | null }>> {
  let record = start;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    if (!isActive(record.state)) return refused('notActive', endedMessage(record));
    if (record.endsAt !== forEndsAt) {
      return { kind: 'already', access: summarise(deps, record), endsAt: record.endsAt, message: `${record.displayName}'s access was already renewed.` };
    }
    const endsAt = renewedEnd(deps.settings, record.groupId, record.endsAt, deps.clock.now());
    const updated = await deps.access.update(record.id, record.version, { endsAt, renewals: record.renewals + 1, renewalRemindersSent: [] });
    if (updated) {
      await syncSchedule(deps, updated);
      await audit(deps, actor, 'guestAccess.renewed', updated, { from: forEndsAt, to: endsAt });
      return { kind: 'done', access: summarise(deps, updated), endsAt };
    }
    const current = await deps.access.get(record.id);
    if (!current) return refused('notFound', 'I could not find that guest any more.');
    record = current;
  }
  return refused('notActive', 'That guest keeps changing; please look again.');
}

/**
 * Renews for another period from the current end. When the approval policy says so (the same
 * APPROVAL_POLICY as invitations, with the renewer as requester) it goes to an approver first.
 */
export async function renewAccess(deps: LifecycleDeps, actor: Actor, input: RenewInput): Promise<RenewOutcome> {
  const loaded = await loadForSteward(deps, actor, input.accessId, 'renew');
  if ('refusal' in loaded) return loaded.refusal;
  const record = loaded.record;
  if (!isActive(record.state)) return refused('notActive', endedMessage(record));
  if (record.endsAt === null) return refused('noEnd', `${record.displayName}'s access to ${record.siteName} has no end date.`);
  if (record.endsAt !== input.forEndsAt) {
    return { kind: 'already', access: summarise(deps, record), endsAt: record.endsAt, message: `${record.displayName}'s access was already renewed.` };
  }
  if (deps.approvals) {
    const isOwner = await deps.accounts.isOwner(record.groupId, actor.userId);
    const verdict = approvalVerdict(deps.approvals.settings, { requesterIsSiteOwner: isOwner, guestDomain: guestDomainOf(record.email) });
    if (verdict.required) {
      const submitted = await deps.approvals.gate.submit({
        accessId: record.id,
        forEndsAt: input.forEndsAt,
        requestedBy: actorAsSponsor(actor),
        access: summarise(deps, record),
        newEndsAt: renewedEnd(deps.settings, record.groupId, record.endsAt, deps.clock.now()),
        reasons: verdict.reasons,
      });
      return { kind: 'pendingApproval', access: summarise(deps, record), requestId: submitted.requestId, created: submitted.created, reasons: verdict.reasons };
    }
  }
  return applyRenewal(deps, actor, record, input.forEndsAt);
}

/** An approver's yes to a renewal request: rights re-checked (approver now), applied once. */
export async function approveRenewal(deps: LifecycleDeps, approver: Actor, input: RenewInput): Promise<ActionOutcome<{ endsAt: string | null }>> {
  const record = await deps.access.get(input.accessId);
  if (!record || record.tenantId !== approver.tenantId) return refused('notFound', 'I could not find that guest any more.');
  const roles = await rolesOver(deps, approver, record, { withApprover: true });
  if (!roles.has('approver')) {
    await auditRefusal(deps, approver, record.id, 'approveRenewal', 'notApprover');
    return refused('notAllowed', 'Only an approver can approve a renewal.');
  }
  return applyRenewal(deps, approver, record, input.forEndsAt);
}

/**
 * An approver's no to a renewal request, once recorded by the gate (whose compare-and-set makes
 * it happen once): on the record; the access keeps its end date.
 */
export async function recordRenewalRejected(deps: LifecycleDeps, approver: Actor, input: RenewInput & { requestId: string }): Promise<void> {
  await deps.audit.append({
    actorId: approver.userId,
    actorName: approver.name,
    action: 'guestAccess.renewalRejected',
    subjectType: AUDIT_SUBJECT,
    subjectId: input.accessId,
    details: { requestId: input.requestId, endsAt: input.forEndsAt },
  });
}

/** Why a click on a renewal request was refused (the gate checks the approver's right). */
export type RenewalDecisionRefusal = 'notApprover' | 'ownRequest';

/** A click on a renewal request by someone who may not decide it: on the record, nothing changed. */
export async function recordRenewalDecisionRefused(
  deps: LifecycleDeps,
  actor: Actor,
  input: { accessId: string; requestId: string; decision: 'approve' | 'reject'; reason: RenewalDecisionRefusal },
): Promise<void> {
  await auditRefusal(deps, actor, input.accessId, input.decision === 'approve' ? 'approveRenewal' : 'rejectRenewal', input.reason, { requestId: input.requestId });
}

/** "Let it end": no more renewal reminders for this end date; the access ends on it. */
export async function letAccessEnd(deps: LifecycleDeps, actor: Actor, input: RenewInput): Promise<ActionOutcome<{ endsAt: string | null }>> {
  const loaded = await loadForSteward(deps, actor, input.accessId, 'letEnd');
  if ('refusal' in loaded) return loaded.refusal;
  let record = loaded.record;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    if (!isActive(record.state)) return { kind: 'already', access: summarise(deps, record), endsAt: record.endsAt, message: endedMessage(record) };
    if (record.endsAt !== input.forEndsAt) {
      return { kind: 'already', access: summarise(deps, record), endsAt: record.endsAt, message: `${record.displayName}'s access was renewed meanwhile.` };
    }
    const all = renewalReminderTimes(deps.settings, input.forEndsAt).map((t) => t.daysBefore);
    if (all.every((d) => record.renewalRemindersSent.includes(d))) {
      return { kind: 'already', access: summarise(deps, record), endsAt: record.endsAt, message: 'Already noted: the access ends on its date.' };
    }
    const updated = await deps.access.update(record.id, record.version, { renewalRemindersSent: all });
    if (updated) {
      await syncSchedule(deps, updated);
      await audit(deps, actor, 'guestAccess.letEnd', updated, { endsAt: updated.endsAt });
      return { kind: 'done', access: summarise(deps, updated), endsAt: updated.endsAt };
    }
    const current = await deps.access.get(record.id);
    if (!current) return refused('notFound', 'I could not find that guest any more.');
    record = current;
  }
  return refused('notActive', 'That guest keeps changing; please look again.');
}

// ---------- Hand over sponsorship ----------

/**
 * Makes someone else the guest's sponsor ("make Alex the sponsor of jane@…"): an owner of the
 * site, or the sponsor themselves. In Entra the new sponsor is added and the old one removed;
 * without the permission, the bot's own record changes and an admin gets the Entra steps.
 */
export async function handOverSponsorship(
  deps: LifecycleDeps,
  actor: Actor,
  input: { accessId: string; newSponsor: Sponsor },
): Promise<ActionOutcome<{ sponsor: Sponsor }>> {
  const loaded = await loadForSteward(deps, actor, input.accessId, 'handOver');
  if ('refusal' in loaded) return loaded.refusal;
  let record = loaded.record;
  if (input.newSponsor.id === record.sponsor.id) {
    return { kind: 'already', access: summarise(deps, record), sponsor: record.sponsor, message: `${record.sponsor.name} already sponsors ${record.displayName}.` };
  }
  if (input.newSponsor.id === record.userId) return refused('invalidInput', 'A guest cannot sponsor themselves.');
  if (!(await deps.accounts.userExistsAndEnabled(input.newSponsor.id))) {
    return refused('sponsorNotFound', `${input.newSponsor.name} cannot be a sponsor: their account was not found or is disabled.`);
  }
  const previous = record.sponsor;
  const instructions: AdminInstructions[] = [];
  try {
    await deps.accounts.addSponsor(record.userId, input.newSponsor.id);
  } catch (error) {
    if (!needsAdmin(error)) throw error;
    instructions.push(adminInstructions('addSponsor', record, error, { sponsorName: input.newSponsor.name }));
  }
  if (instructions.length === 0) {
    try {
      await deps.accounts.removeSponsor(record.userId, previous.id);
    } catch (error) {
      if (!needsAdmin(error)) throw error;
      instructions.push(adminInstructions('removeSponsor', record, error, { sponsorName: previous.name }));
    }
  }
  for (let attempt = 0; ; attempt += 1) {
    const updated = await deps.access.update(record.id, record.version, { sponsor: { ...input.newSponsor } });
    if (updated) {
      record = updated;
      break;
    }
    const current = await deps.access.get(record.id);
    if (!current || attempt >= 4) return refused('notActive', 'That guest changed meanwhile; please look again.');
    if (current.sponsor.id === input.newSponsor.id) {
      return { kind: 'already', access: summarise(deps, current), sponsor: current.sponsor, message: `${current.sponsor.name} already sponsors ${current.displayName}.` };
    }
    record = current;
  }
  await audit(deps, actor, 'guestAccess.sponsorChanged', record, { from: previous.id, to: input.newSponsor.id });
  try {
    await deps.notifier.sponsorshipReceived(
      { userId: input.newSponsor.id, name: input.newSponsor.name, as: 'sponsor' },
      { access: summarise(deps, record), from: previous.name, by: actor.name },
    );
  } catch (error) {
    deps.logger?.warn({ accessId: record.id, err: error instanceof Error ? error.name : 'error' }, 'lifecycle: could not tell the new sponsor');
  }
  if (instructions.length > 0) {
    return { kind: 'needsAdmin', access: summarise(deps, record), instructions, message: `${input.newSponsor.name} is now the sponsor here; an admin must change it in Entra too.` };
  }
  return { kind: 'done', access: summarise(deps, record), sponsor: record.sponsor };
}
