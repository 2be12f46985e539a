/**
 * The guest lifecycle in chat: "my guests", "guests of <site>", "make <person> the sponsor of
 * <address>", "what is scheduled for <address>", and the Action.Execute verbs of the lifecycle
 * cards (lifecycle.*). Every verb asks the use case, which re-reads the guest's access and
 * re-checks the clicker's rights (sponsor, owner, approver) from the activity, never the card;
 * the answer replaces the card clicked, so a second click shows the outcome, not the action.
 */
import type { ConversationReference, InvokeResponse } from 'botbuilder';
import type { DialogContext } from 'botbuilder-dialogs';
import { z } from 'zod';
import type { Actor } from '../../domain/actor';
import type { Clock } from '../../domain/clock';
import { parseEmail } from '../../domain/email';
import { methodLabel } from '../../domain/signInWording';
import { methodFromIdentities } from '../../domain/tenantSettingRules';
import type { GroupInfo, TenantPolicies } from '../../domain/tenant';
import type { Logger } from '../../shared/logger';
import type { GuestLifecycle } from '../../usecases/lifecycle/guestLifecycle';
import type { GuestRow } from '../../usecases/lifecycle/queries';
import type { Directory } from '../../usecases/ports/Directory';
import type { ActionData, ActionHandler, BotFeature, RefusedClickOf } from '../bot/feature';
import { cardInvokeResponse } from '../bot/invokeResponse';
import { cardAttachment, type AdaptiveCard } from '../cards';
import { emailInputIdFor, guestListCard, guestListRow } from './cards/guestListCard';
import { actionResultCard, lifecycleMessageCard, type LifecycleVerbName } from './cards/resultCard';
import { scheduleCard } from './cards/scheduleCard';
import { parseLifecycleCommand } from './lifecycleCommands';
import type { LifecycleSender } from './lifecycleNotifier';
import type { PendingNotices } from './pendingNotices';
import type { TeamsRenewalApprovals } from './renewalRequests';

export const LIFECYCLE_VERBS = {
  resend: 'lifecycle.resend',
  withdraw: 'lifecycle.withdraw',
  keepWaiting: 'lifecycle.keepWaiting',
  renew: 'lifecycle.renew',
  letEnd: 'lifecycle.letEnd',
  remove: 'lifecycle.remove',
  list: 'lifecycle.list',
  approveRenewal: 'lifecycle.approveRenewal',
  rejectRenewal: 'lifecycle.rejectRenewal',
} as const;

export interface LifecycleFeatureDeps {
  lifecycle: GuestLifecycle;
  directory: Pick<Directory, 'listOwnedGroups' | 'listMemberGroups' | 'findUserByEmail' | 'getUser' | 'listGroupMembers' | 'listGroupOwners' | 'readPolicies'>;
  /** The renewal approvals gate, when APPROVAL_POLICY can send renewals to approvers. */
  renewals: TeamsRenewalApprovals | null;
  pending: PendingNotices;
  sender: LifecycleSender;
  clock: Clock;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

const id = z.string().trim().min(1).max(200);
const accessData = z.object({ accessId: id, from: z.enum(['list', 'card']).optional() });
const tokenData = accessData.extend({ reminderToken: id });
const endData = accessData.extend({ forEndsAt: id });
const requestData = z.object({ requestId: id });
const listData = z.object({ scope: z.string().trim().min(1).max(200).optional() });

/** How many of the asker's own sites a name is looked for in (after the guest's sites). */
const MAX_GROUPS_SEARCHED = 20;

const WHO_ARE_YOU = 'I could not tell who you are (Teams did not say which Microsoft Entra user you are), so nothing was changed.';

/** A toggle's value as Teams sends it ("true"/"false"), or a boolean. */
function toggled(value: unknown): boolean {
  return value === true || value === 'true';
}

function sameName(a: string, b: string): boolean {
  return a.localeCompare(b, undefined, { sensitivity: 'base' }) === 0;
}

/** A site among `groups` by its name: exact (any case) first, else the only one that starts with it. */
export function findSite(groups: readonly GroupInfo[], name: string): GroupInfo | null {
  const exact = groups.filter((g) => sameName(g.displayName, name));
  if (exact.length > 0) return exact[0] ?? null;
  const lower = name.toLowerCase();
  const starts = groups.filter((g) => g.displayName.toLowerCase().startsWith(lower));
  return starts.length === 1 ? (starts[0] ?? null) : null;
}

export function createLifecycleFeature(deps: LifecycleFeatureDeps): BotFeature {
  const { lifecycle, directory } = deps;

  const reply = async (dc: DialogContext, card: AdaptiveCard): Promise<void> => {
    await dc.context.sendActivity({ attachments: [cardAttachment(card)] });
  };

  /** Sign-in methods of the listed guests, when the directory says (one policy read per list). */
  const signInLabels = async (rows: GuestRow[]): Promise<Map<string, string>> => {
    const labels = new Map<string, string>();
    const accepted = rows.filter((r) => r.access.acceptedAt !== null);
    if (accepted.length === 0) return labels;
    let policies: TenantPolicies;
    try {
      policies = await directory.readPolicies();
    } catch {
      return labels;
    }
    for (const row of accepted) {
      try {
        const user = await directory.findUserByEmail(row.access.guestEmail);
        const method = user ? methodFromIdentities(user.identities, policies) : null;
        if (method) labels.set(row.access.accessId, methodLabel(method).replace(/^./, (c) => c.toUpperCase()));
      } catch {
        // Unknown stays unknown: the row shows no method.
      }
    }
    return labels;
  };

  const listCard = async (actor: Actor, scope: { kind: 'mine' } | { kind: 'site'; site: GroupInfo }, includeEnded: boolean): Promise<AdaptiveCard> => {
    const now = deps.clock.now();
    if (scope.kind === 'mine') {
      const rows = await lifecycle.myGuests(actor, { includeEnded, limit: 50 });
      const labels = await signInLabels(rows.slice(0, 15));
      return guestListCard({
        title: 'Your guests',
        details: ['The guests you sponsor, newest invitation first. Renew, Resend or Remove right here; say "guests of <site>" for a site you own.'],
        emptyNote: includeEnded ? 'You sponsor no guests.' : 'You sponsor no guests with access right now. Say "my guests including ended" to see earlier ones.',
        rows: rows.map((r) => guestListRow(r, labels.get(r.access.accessId) ?? null, now)),
        total: rows.length,
      });
    }
    const result = await lifecycle.guestsOfSite(actor, { groupId: scope.site.id, siteName: scope.site.displayName }, { includeEnded, limit: 50 });
    if (result.kind === 'refused') return lifecycleMessageCard('Nothing to show', [result.message]);
    const labels = await signInLabels(result.rows.slice(0, 15));
    return guestListCard({
      title: `Guests of ${scope.site.displayName}`,
      details: ['Every guest of this site the bot knows about, newest invitation first.'],
      emptyNote: `The bot knows of no guests of ${scope.site.displayName} with access right now.`,
      rows: result.rows.map((r) => guestListRow(r, labels.get(r.access.accessId) ?? null, now)),
      total: result.rows.length,
    });
  };

  /** "guests of X": among the sites the person owns, then those they are in (the use case then refuses). */
  const resolveSite = async (actor: Actor, name: string): Promise<GroupInfo | null> => {
    const owned = await directory.listOwnedGroups(actor.userId);
    const site = findSite(owned, name);
    if (site) return site;
    return findSite(await directory.listMemberGroups(actor.userId), name);
  };

  const onMessage = async (dc: DialogContext, text: string, actor: Actor | null): Promise<boolean> => {
    const command = parseLifecycleCommand(text);
    if (!command) return false;
    if (!actor) {
      await reply(dc, lifecycleMessageCard('Nothing was changed', [WHO_ARE_YOU]));
      return true;
    }
    switch (command.kind) {
      case 'myGuests':
        await reply(dc, await listCard(actor, { kind: 'mine' }, command.includeEnded));
        return true;
      case 'guestsOf': {
        const site = command.siteName ? await resolveSite(actor, command.siteName) : null;
        if (!site) {
          await reply(dc, lifecycleMessageCard(`I could not find a site called "${command.siteName}"`, ['Say "guests of" and the name of a site you own, for example "guests of Project Falcon".']));
          return true;
        }
        await reply(dc, await listCard(actor, { kind: 'site', site }, command.includeEnded));
        return true;
      }
      case 'schedule': {
        const parsed = parseEmail(command.guest);
        if (!parsed.ok) {
          await reply(dc, lifecycleMessageCard(`"${command.guest}" is not an email address`, ['Say "what is scheduled for" and the guest\'s address, for example "what is scheduled for jane@fabrikam.com".']));
          return true;
        }
        await reply(dc, scheduleCard(parsed.email.address, await lifecycle.scheduleFor(actor, parsed.email.address)));
        return true;
      }
      case 'handOver':
        await reply(dc, await handOver(actor, command));
        return true;
    }
  };

  /** "make Alex the sponsor of jane@…": the guest by address, the person in the directory. */
  const handOver = async (actor: Actor, command: { person: string; guest: string; siteName: string | null }): Promise<AdaptiveCard> => {
    const parsed = parseEmail(command.guest);
    if (!parsed.ok) {
      return lifecycleMessageCard(`"${command.guest}" is not an email address`, ['Say it like this: "make Alex Wilber the sponsor of jane@fabrikam.com".']);
    }
    const email = parsed.email.address;
    const visible = (await lifecycle.scheduleFor(actor, email)).filter((e) => e.running);
    const accesses = command.siteName ? visible.filter((e) => sameName(e.access.siteName, command.siteName ?? '')) : visible;
    if (accesses.length === 0) {
      return lifecycleMessageCard('Nothing was changed', [
        command.siteName
          ? `I know of no guest ${email} in ${command.siteName} that you sponsor or whose site you own.`
          : `I know of no guest ${email} that you sponsor or whose site you own.`,
      ]);
    }
    const person = await resolvePerson(actor, command.person, accesses.map((a) => a.access.siteName), email);
    if ('problem' in person) return lifecycleMessageCard('Nothing was changed', [person.problem]);
    const outcomes = [];
    for (const entry of accesses) {
      outcomes.push(await lifecycle.handOver(actor, { accessId: entry.access.accessId, newSponsor: person }));
    }
    // One guest in several sites: one card per site would be noise; the first tells, the rest agree.
    const first = outcomes.find((o) => o.kind === 'refused' || o.kind === 'needsAdmin') ?? outcomes[0];
    if (!first) return lifecycleMessageCard('Nothing was changed', ['Nothing to hand over.']);
    return actionResultCard('handOver', first, { listAction: true });
  };

  /** The new sponsor: "me", an address, or a name among the people of the guest's sites (not guests). */
  const resolvePerson = async (actor: Actor, said: string, siteNames: string[], guestEmail: string): Promise<{ id: string; name: string } | { problem: string }> => {
    if (/^(me|myself)$/i.test(said)) return { id: actor.userId, name: actor.name };
    if (said.includes('@')) {
      const parsed = parseEmail(said);
      if (!parsed.ok) return { problem: `"${said}" is not an email address.` };
      const user = await directory.findUserByEmail(parsed.email.address);
      if (!user) return { problem: `I could not find ${parsed.email.address} in your organisation's directory.` };
      if (user.kind !== 'member') return { problem: `${user.displayName} is a guest: a sponsor must be someone in your organisation.` };
      return { id: user.id, name: user.displayName };
    }
    // The directory port has no search by name: a name is looked for among the people of the
    // guest's sites, then of the sites the asker owns (full name, or first name), members only.
    const owned = await directory.listOwnedGroups(actor.userId);
    const member = await directory.listMemberGroups(actor.userId);
    const all = [...owned, ...member].filter((g, i, list) => list.findIndex((x) => x.id === g.id) === i);
    const guestSites = all.filter((g) => siteNames.some((s) => sameName(s, g.displayName)));
    const searched: string[] = [];
    let members: Array<{ id: string; name: string }> = [];
    for (const groups of [guestSites, owned.filter((g) => !guestSites.some((x) => x.id === g.id)).slice(0, MAX_GROUPS_SEARCHED)]) {
      if (groups.length === 0) continue;
      searched.push(...groups.map((g) => g.displayName));
      members = await peopleNamed(said, groups, guestEmail);
      if (members.length > 0) break;
    }
    if (members.length === 1 && members[0]) return members[0];
    if (members.length > 1) {
      return { problem: `Several people are called "${said}": ${members.map((m) => m.name).join(', ')}. Say their email address instead, for example "make alex@contoso.com the sponsor of ${guestEmail}".` };
    }
    return { problem: `I could not find "${said}" among the people of ${(searched.length ? searched : siteNames).join(', ')}. Say their email address instead, for example "make alex@contoso.com the sponsor of ${guestEmail}".` };
  };

  /** Members of the organisation (not guests) in `groups` called `said` (full or first name). */
  const peopleNamed = async (said: string, groups: GroupInfo[], guestEmail: string): Promise<Array<{ id: string; name: string }>> => {
    const people = new Map<string, string>();
    for (const g of groups) {
      for (const p of [...(await directory.listGroupOwners(g.id)), ...(await directory.listGroupMembers(g.id))]) people.set(p.id, p.displayName);
    }
    const named = [...people.entries()].filter(([, name]) => sameName(name, said) || sameName(name.split(' ')[0] ?? '', said));
    const found: Array<{ id: string; name: string }> = [];
    for (const [id, name] of named) {
      const user = await directory.getUser(id);
      if (user && user.kind === 'member' && (user.mail ?? '').toLowerCase() !== guestEmail.toLowerCase()) found.push({ id, name });
    }
    return found;
  };

  /** Parses the button data (a malformed invoke changes nothing) and answers with a card, always. */
  const handler =
    <S extends z.ZodTypeAny>(schema: S, handle: (actor: Actor, data: z.infer<S>, raw: ActionData) => Promise<AdaptiveCard>, options: { allowUnknownActor?: boolean } = {}): ActionHandler =>
    async (_context, actor, raw): Promise<InvokeResponse> => {
      const parsed = schema.safeParse(raw);
      if (!parsed.success) return cardInvokeResponse(lifecycleMessageCard('Nothing was changed', ['That button does not say which guest it is for.']));
      if (!actor && !options.allowUnknownActor) return cardInvokeResponse(lifecycleMessageCard('Nothing was changed', [WHO_ARE_YOU]));
      try {
        return cardInvokeResponse(await handle(actor as Actor, parsed.data, raw));
      } catch (error) {
        deps.logger?.error({ err: error instanceof Error ? error.name : 'error' }, 'lifecycle: action failed');
        return cardInvokeResponse(lifecycleMessageCard('Something went wrong', ['Nothing may have changed. Say "my guests" to see where things stand, and try again.']));
      }
    };

  const result = (verb: LifecycleVerbName, outcome: Parameters<typeof actionResultCard>[1], emailed?: boolean): AdaptiveCard =>
    actionResultCard(verb, outcome, { emailed });

  const actions: Record<string, ActionHandler> = {
    [LIFECYCLE_VERBS.resend]: handler(tokenData, async (actor, data, raw) => {
      // The card's toggle ("sendEmail" on a reminder; one per row on the list).
      const sendEmail = toggled(raw.sendEmail) || toggled(raw[emailInputIdFor(data.accessId)]);
      return result('resend', await lifecycle.resend(actor, { accessId: data.accessId, reminderToken: data.reminderToken, sendEmail }), sendEmail);
    }),
    [LIFECYCLE_VERBS.withdraw]: handler(accessData, async (actor, data) => result('withdraw', await lifecycle.withdraw(actor, { accessId: data.accessId }))),
    [LIFECYCLE_VERBS.keepWaiting]: handler(tokenData, async (actor, data) =>
      result('keepWaiting', await lifecycle.keepWaiting(actor, { accessId: data.accessId, reminderToken: data.reminderToken })),
    ),
    [LIFECYCLE_VERBS.renew]: handler(endData, async (actor, data) => result('renew', await lifecycle.renew(actor, { accessId: data.accessId, forEndsAt: data.forEndsAt }))),
    [LIFECYCLE_VERBS.letEnd]: handler(endData, async (actor, data) => result('letEnd', await lifecycle.letEnd(actor, { accessId: data.accessId, forEndsAt: data.forEndsAt }))),
    [LIFECYCLE_VERBS.remove]: handler(accessData, async (actor, data) => result('remove', await lifecycle.remove(actor, { accessId: data.accessId }))),
    [LIFECYCLE_VERBS.list]: handler(listData, async (actor) => listCard(actor, { kind: 'mine' }, false)),
    [LIFECYCLE_VERBS.approveRenewal]: handler(
      requestData,
      async (actor, data) => {
        if (!deps.renewals) return lifecycleMessageCard('Nothing was changed', ['Renewals do not need approval here any more.']);
        return deps.renewals.decide(actor, data.requestId, 'approve', lifecycle);
      },
      { allowUnknownActor: true },
    ),
    [LIFECYCLE_VERBS.rejectRenewal]: handler(
      requestData,
      async (actor, data) => {
        if (!deps.renewals) return lifecycleMessageCard('Nothing was changed', ['Renewals do not need approval here any more.']);
        return deps.renewals.decide(actor, data.requestId, 'reject', lifecycle);
      },
      { allowUnknownActor: true },
    ),
  };

  /** What each button attempts (guestAccess.refused), for a click from someone Teams did not identify. */
  const onAccess = (attempted: string) => (data: ActionData) => ({ event: 'guestAccess', subjectType: 'guestAccess', subjectId: data.accessId, attempted });
  /** A renewal request's card names the request: its access is read from it (unknown when there is none). */
  const onRenewalRequest = (attempted: string) => async (data: ActionData) => {
    const request = typeof data.requestId === 'string' && deps.renewals ? await deps.renewals.get(data.requestId) : null;
    return { event: 'guestAccess', subjectType: 'guestAccess', subjectId: request?.accessId ?? null, attempted };
  };
  const refusedClicks: Record<string, RefusedClickOf> = {
    [LIFECYCLE_VERBS.resend]: onAccess('resend'),
    [LIFECYCLE_VERBS.withdraw]: onAccess('withdraw'),
    [LIFECYCLE_VERBS.keepWaiting]: onAccess('keepWaiting'),
    [LIFECYCLE_VERBS.renew]: onAccess('renew'),
    [LIFECYCLE_VERBS.letEnd]: onAccess('letEnd'),
    [LIFECYCLE_VERBS.remove]: onAccess('remove'),
    [LIFECYCLE_VERBS.list]: null,
    [LIFECYCLE_VERBS.approveRenewal]: onRenewalRequest('approveRenewal'),
    [LIFECYCLE_VERBS.rejectRenewal]: onRenewalRequest('rejectRenewal'),
  };

  return {
    name: 'lifecycle',
    onMessage,
    actions,
    refusedClicks,
    onConversationSeen: async (reference: Partial<ConversationReference>) => {
      // A person the notices could not reach before: what waits for them arrives in their personal chat.
      const conversation = reference.conversation;
      const userId = reference.user?.aadObjectId;
      const personal = conversation?.conversationType ? conversation.conversationType === 'personal' : conversation?.isGroup !== true;
      if (!conversation?.id || !userId || !personal) return;
      const delivered = await deps.pending.deliver(userId, reference, deps.sender);
      if (delivered > 0) deps.logger?.info({ delivered }, 'lifecycle: delivered notices that had waited for a personal chat');
    },
    help: [
      { title: 'See the guests you sponsor, with Resend, Renew and Remove', example: 'my guests', audience: 'owners' },
      { title: "See a site's guests (its owners only)", example: 'guests of Project Falcon', audience: 'owners' },
      { title: 'Hand a guest over to another sponsor', example: 'make Adele Vance the sponsor of jane@fabrikam.com', audience: 'owners' },
      { title: 'See what is planned for a guest (reminders, end of access)', example: 'what is scheduled for jane@fabrikam.com', audience: 'owners' },
    ],
  };
}
