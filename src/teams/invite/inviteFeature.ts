import { MessageFactory } from 'botbuilder';
import type { DialogContext } from 'botbuilder-dialogs';
import type { Directory } from '../../usecases/ports/Directory';
import type { InvitationRepository } from '../../usecases/ports/invitations';
import { type InviteGuestService } from '../../usecases/invite/inviteGuest';
import { InviteRefusedError } from '../../usecases/invite/refusals';
import type { SignInAdvisorPort } from '../../usecases/signIn/signInAdvisor';
import { trimEndChars } from '../../domain/text';
import { INVITE_GUEST_DIALOG, InviteGuestDialog, type InviteGuestOptions } from './InviteGuestDialog';
import { invitationStatusCard } from './cards/invitationStatusCard';
import { inviteResultCards, refusedInviteResultCard } from './cards/inviteResultCard';
import { myInvitationsCard } from './cards/myInvitationsCard';
import type { ActionData, ActionHandler, BotFeature } from '../bot/feature';
import type { Actor } from '../../domain/actor';
import { cardInvokeResponse } from '../bot/invokeResponse';

export interface InviteFeatureServices {
  service: InviteGuestService;
  directory: Directory;
  /** The advisor for the email prompt's checks; defaults to the one inside the service's checks. */
  advisor?: SignInAdvisorPort;
  /** Not used directly yet; accepted so the composition root can pass the same repository everywhere. */
  invitations?: InvitationRepository;
}

/** What an owner typed, as far as an invitation is concerned. */
export type InviteIntent =
  | { kind: 'invite'; options: InviteGuestOptions }
  | { kind: 'status'; email: string }
  | { kind: 'mine' };

const GUIDED = /^(?:please\s+)?(?:invite|add)\s+(?:a\s+|an\s+|one\s+)?(?:new\s+)?(?:guest|partner|external(?:\s+user)?)(?:\s+please)?$/i;
const NOT_SINGLE = /^(?:please\s+)?invite\s+(?:many|several|multiple|people\s+from|from|a\s+csv|csv|in\s+bulk|bulk)\b/i;
// Patterns that see user text are anchored and never let two quantifiers compete for the same
// characters: the captured rest is trimmed in code (the former `(.+?)[?.!]*$` was quadratic).
const ONE_MESSAGE = /^(?:please\s+)?invite\s(.+)$/i;
const STATUS = /^(?:what(?:'s|\s+is)\s+the\s+)?(?:invitation\s+)?status\s+(?:of|for)\s(.+)$/i;
const MINE = /^(?:show\s+)?(?:me\s+)?my\s+(?:invitations|invites|guests)[?.!]*$/i;

/** Recognises "invite a guest", "invite Jane Doe <jane@x.com>", "invite jane@x.com as Jane Doe to Project X", "status of …", "my invitations". */
export function recogniseInviteIntent(text: string): InviteIntent | null {
  const t = text.trim();
  if (GUIDED.test(t)) return { kind: 'invite', options: {} };
  const mine = MINE.exec(t);
  if (mine) return { kind: 'mine' };
  const status = STATUS.exec(t);
  const statusOf = status?.[1] ? trimEndChars(status[1], '?.!').trim() : '';
  if (statusOf) return { kind: 'status', email: statusOf };
  if (NOT_SINGLE.test(t)) return null;
  const one = ONE_MESSAGE.exec(t);
  const rest = one?.[1]?.trim() ?? '';
  if (!rest.includes('@')) return null;
  return { kind: 'invite', options: parseOneMessage(rest) };
}

/**
 * "Jane Doe <jane@x.com> to Project X", "jane@x.com as Jane Doe to Project X", "Jane Doe jane@x.com".
 * The address part is handed to the dialog as typed, so its prompt explains what is wrong with it.
 */
function parseOneMessage(rest: string): InviteGuestOptions {
  // Word by word rather than with patterns: every step is one pass over the message.
  let words = rest.trim().split(/\s+/);
  const options: InviteGuestOptions = {};
  // " to <site>" after the address (a site name cannot contain '@', '<' or '>').
  const cleanFrom = cleanSuffixStart(words);
  const to = words.findIndex((w, i) => i > 0 && i < words.length - 1 && i + 1 >= cleanFrom && /^(?:to|into|on)$/i.test(w));
  if (to !== -1) {
    let site = words.slice(to + 1);
    if (site.length > 1 && /^the$/i.test(site[0] ?? '')) site = site.slice(1);
    if (site.length > 1 && /^(?:site|team)$/i.test(site[site.length - 1] ?? '')) site = site.slice(0, -1);
    const atBefore = words.slice(0, to).some((w) => w.includes('@'));
    if (atBefore) {
      options.siteName = site.join(' ');
      words = words.slice(0, to);
    }
  }
  const asCleanFrom = cleanSuffixStart(words);
  const as = words.findIndex((w, i) => i > 0 && i < words.length - 1 && i + 1 >= asCleanFrom && /^as$/i.test(w));
  if (as !== -1) {
    options.displayName = unquote(words.slice(as + 1).join(' '));
    words = words.slice(0, as);
  }
  const body = words.join(' ');
  const angled = angledAtEnd(body);
  if (angled) {
    const name = unquote(angled.name);
    if (name && options.displayName === undefined) options.displayName = name;
    options.email = `${name ? `${name} ` : ''}<${angled.address}>`;
    return options;
  }
  // "Jane Doe jane@x.com": the words before the first token with an '@' are the name.
  const at = words.findIndex((w) => w.includes('@'));
  if (at > 0 && options.displayName === undefined) {
    const emailPart = words.slice(at).join(' ');
    // Only split off a name when the rest is a single token; "jane doe@x.com" stays whole.
    if (words.length - at === 1) {
      options.displayName = words.slice(0, at).join(' ');
      options.email = emailPart;
      return options;
    }
  }
  options.email = body;
  return options;
}

/** The first index from which no word holds '@', '<' or '>' (words.length when the last one does). */
function cleanSuffixStart(words: readonly string[]): number {
  let i = words.length;
  while (i > 0 && !/[@<>]/.test(words[i - 1] ?? '')) i--;
  return i;
}

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

/** "Jane Doe <mailto:jane@x.com>" at the very end: the name before the last '<' and the address inside. */
function angledAtEnd(body: string): { name: string; address: string } | null {
  const t = body.trimEnd();
  if (!t.endsWith('>')) return null;
  const open = t.lastIndexOf('<', t.length - 2);
  if (open === -1) return null;
  let inner = t.slice(open + 1, -1);
  if (inner.includes('>')) return null;
  inner = inner.trimStart();
  if (inner.startsWith('mailto:')) inner = inner.slice('mailto:'.length);
  if (inner === '') return null;
  return { name: t.slice(0, open).trim(), address: inner.trim() };
}

function plain(text: string) {
  const message = MessageFactory.text(text);
  message.textFormat = 'plain';
  return message;
}

export function createInviteFeature(services: InviteFeatureServices): BotFeature {
  const advisor: SignInAdvisorPort = services.advisor ?? services.service.advisor;
  const dialog = new InviteGuestDialog({ service: services.service, advisor, directory: services.directory });

  async function needActor(dc: DialogContext, actor: Actor | null): Promise<Actor | null> {
    if (!actor) await dc.context.sendActivity("I can't tell who you are in this chat, so I can't look that up for you.");
    return actor;
  }

  const retry: ActionHandler = async (_context, actor, data) => {
    const recordId = typeof data.recordId === 'string' ? data.recordId : '';
    if (!actor) {
      return cardInvokeResponse(refusedInviteResultCard("I can't tell who you are, so nothing was changed."));
    }
    const outcome = await services.service.retryMembership(recordId, actor);
    // A refusal that carries no invitation (not theirs, or gone) says only that and who may act.
    if (!outcome.record && outcome.status === 'failed') {
      return cardInvokeResponse(refusedInviteResultCard(outcome.refusal?.message ?? 'Nothing was changed.'));
    }
    const policies = await services.directory.readPolicies();
    const [card] = inviteResultCards(outcome, {
      guestName: outcome.record?.displayName ?? 'The guest',
      guestEmail: outcome.record?.emailDisplay ?? '',
      tenantName: policies.tenantDisplayName,
      tenantId: policies.tenantId,
      emailsInvitations: services.service.emailsInvitations,
      accessEnd: outcome.record ? services.service.expectedAccessEnd(outcome.record.groupId) : null,
    });
    return cardInvokeResponse(card?.content as Parameters<typeof cardInvokeResponse>[0]);
  };

  /** "Send the invitation email": Microsoft emails the guest their invitation; rights re-checked by the use case. */
  const sendEmail: ActionHandler = async (_context, actor, data) => {
    const recordId = typeof data.recordId === 'string' ? data.recordId : '';
    if (!actor) {
      return cardInvokeResponse(refusedInviteResultCard("I can't tell who you are, so nothing was sent."));
    }
    const outcome = await services.service.sendInvitationEmail(recordId, actor);
    const policies = await services.directory.readPolicies();
    const name = outcome.record?.displayName ?? 'The guest';
    const emailDisplay = outcome.record?.emailDisplay ?? '';
    // Someone who may not act on this invitation sees only why: never the guest's link.
    if (!outcome.emailed && (!outcome.record || outcome.refusal?.code === 'notOwner' || outcome.status === 'failed')) {
      const reason = outcome.refusal?.message ?? 'Nothing was sent.';
      if (!outcome.record || outcome.refusal?.code !== 'unknownSite') return cardInvokeResponse(refusedInviteResultCard(reason));
    }
    const [card] = inviteResultCards(
      outcome.status === 'failed' ? { ...outcome, status: outcome.record?.state === 'partial' ? 'partial' : 'completed', refusal: null, redeemUrl: outcome.record?.redeemUrl ?? null, kind: outcome.record?.outcomeKind ?? null } : outcome,
      {
        guestName: name,
        guestEmail: emailDisplay,
        tenantName: policies.tenantDisplayName,
        tenantId: policies.tenantId,
        emailsInvitations: services.service.emailsInvitations,
        justEmailed: outcome.emailed,
        notice: outcome.emailed ? `Microsoft emailed the invitation to ${emailDisplay}.` : `Nothing was sent: ${outcome.refusal?.message ?? 'the email could not be sent.'}`,
      },
    );
    return cardInvokeResponse(card?.content as Parameters<typeof cardInvokeResponse>[0]);
  };

  return {
    name: 'invite',
    dialogs: [dialog],
    async onMessage(dc, text, actor) {
      const intent = recogniseInviteIntent(text);
      if (!intent) return false;
      if (intent.kind === 'invite') {
        await dc.beginDialog(INVITE_GUEST_DIALOG, intent.options);
        return true;
      }
      const who = await needActor(dc, actor);
      if (!who) return true;
      if (intent.kind === 'mine') {
        const views = await services.service.myInvitations(who, 10);
        await dc.context.sendActivity({ attachments: [myInvitationsCard(views)] });
        return true;
      }
      try {
        const views = await services.service.statusOf(who, intent.email);
        await dc.context.sendActivity({ attachments: [invitationStatusCard(intent.email, views)] });
      } catch (e) {
        if (!(e instanceof InviteRefusedError)) throw e;
        await dc.context.sendActivity(plain(`${e.refusal.message} Try "status of jane@fabrikam.com".`));
      }
      return true;
    },
    actions: { 'invite.retry': retry, 'invite.sendEmail': sendEmail },
    // What each button attempts (invitation.refused), for a click from someone Teams did not identify.
    refusedClicks: {
      'invite.retry': (data: ActionData) => ({ event: 'invitation', subjectType: 'invitation', subjectId: data.recordId, attempted: 'retry' }),
      'invite.sendEmail': (data: ActionData) => ({ event: 'invitation', subjectType: 'invitation', subjectId: data.recordId, attempted: 'email' }),
    },
    help: [
      { title: 'Invite a guest (I ask for the details)', example: 'invite a guest', audience: 'owners' },
      { title: 'Invite a guest in one message', example: 'invite Jane Doe <jane@fabrikam.com> to Project Falcon', audience: 'owners' },
      { title: "Check a guest's invitation", example: 'status of jane@fabrikam.com', audience: 'owners' },
      { title: 'List the invitations you made', example: 'my invitations', audience: 'owners' },
    ],
  };
}
