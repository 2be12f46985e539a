import { MessageFactory } from 'botbuilder';
import type { DialogContext } from 'botbuilder-dialogs';
import type { Directory } from '../directory/Directory';
import type { InvitationRepository } from '../store/invitations';
import { InviteRefusedError, type InviteGuestService } from '../usecases/inviteGuest';
import type { SignInAdvisorPort } from '../usecases/signInAdvisor';
import { expandCard } from './cards';
import { INVITE_GUEST_DIALOG, InviteGuestDialog, type InviteGuestOptions } from './dialogs/InviteGuestDialog';
import { invitationStatusCard, inviteResultCards, myInvitationsCard } from './dialogs/inviteCards';
import type { Actor, ActionHandler, BotFeature } from './feature';
import { cardInvokeResponse } from './invokeResponse';

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
const ONE_MESSAGE = /^(?:please\s+)?invite\s+(.+)$/i;
const STATUS = /^(?:what(?:'s|\s+is)\s+the\s+)?(?:invitation\s+)?status\s+(?:of|for)\s+(.+?)[?.!]*$/i;
const MINE = /^(?:show\s+)?(?:me\s+)?my\s+(?:invitations|invites|guests)[?.!]*$/i;

/** Recognises "invite a guest", "invite Jane Doe <jane@x.com>", "invite jane@x.com as Jane Doe to Project X", "status of …", "my invitations". */
export function recogniseInviteIntent(text: string): InviteIntent | null {
  const t = text.trim();
  if (GUIDED.test(t)) return { kind: 'invite', options: {} };
  const mine = MINE.exec(t);
  if (mine) return { kind: 'mine' };
  const status = STATUS.exec(t);
  if (status?.[1]) return { kind: 'status', email: status[1].trim() };
  if (NOT_SINGLE.test(t)) return null;
  const one = ONE_MESSAGE.exec(t);
  if (!one?.[1] || !one[1].includes('@')) return null;
  return { kind: 'invite', options: parseOneMessage(one[1]) };
}

/**
 * "Jane Doe <jane@x.com> to Project X", "jane@x.com as Jane Doe to Project X", "Jane Doe jane@x.com".
 * The address part is handed to the dialog as typed, so its prompt explains what is wrong with it.
 */
function parseOneMessage(rest: string): InviteGuestOptions {
  let body = rest.trim();
  const options: InviteGuestOptions = {};
  // " to <site>" after the address (a site name cannot contain '@').
  const to = /\s+(?:to|into|on)\s+(?:the\s+)?([^@<>]+?)(?:\s+(?:site|team))?$/i.exec(body);
  if (to?.[1] && body.lastIndexOf('@') < (to.index ?? 0)) {
    options.siteName = to[1].trim();
    body = body.slice(0, to.index).trim();
  }
  const as = /\s+as\s+([^@<>]+)$/i.exec(body);
  if (as?.[1]) {
    options.displayName = as[1].trim().replace(/^"(.*)"$/, '$1');
    body = body.slice(0, as.index).trim();
  }
  const angled = /^(.*?)\s*<\s*(?:mailto:)?([^<>]+)>\s*$/.exec(body);
  if (angled) {
    const name = (angled[1] ?? '').trim().replace(/^"(.*)"$/, '$1');
    if (name && options.displayName === undefined) options.displayName = name;
    options.email = `${name ? `${name} ` : ''}<${(angled[2] ?? '').trim()}>`;
    return options;
  }
  // "Jane Doe jane@x.com": the words before the first token with an '@' are the name.
  const words = body.split(/\s+/);
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
      return cardInvokeResponse(expandCard('inviteResult', refusedCardData("I can't tell who you are, so nothing was changed.")));
    }
    const outcome = await services.service.retryMembership(recordId, actor);
    // A refusal that carries no invitation (not theirs, or gone) says only that and who may act.
    if (!outcome.record && outcome.status === 'failed') {
      return cardInvokeResponse(expandCard('inviteResult', refusedCardData(outcome.refusal?.message ?? 'Nothing was changed.')));
    }
    const policies = await services.directory.readPolicies();
    const [card] = inviteResultCards(outcome, {
      guestName: outcome.record?.displayName ?? 'The guest',
      guestEmail: outcome.record?.emailDisplay ?? '',
      tenantName: policies.tenantDisplayName,
      tenantId: policies.tenantId,
      emailsInvitations: services.service.emailsInvitations,
    });
    return cardInvokeResponse(card?.content as Parameters<typeof cardInvokeResponse>[0]);
  };

  /** "Send the invitation email": Microsoft emails the guest their invitation; rights re-checked by the use case. */
  const sendEmail: ActionHandler = async (_context, actor, data) => {
    const recordId = typeof data.recordId === 'string' ? data.recordId : '';
    if (!actor) {
      return cardInvokeResponse(expandCard('inviteResult', refusedCardData("I can't tell who you are, so nothing was sent.")));
    }
    const outcome = await services.service.sendInvitationEmail(recordId, actor);
    const policies = await services.directory.readPolicies();
    const name = outcome.record?.displayName ?? 'The guest';
    const emailDisplay = outcome.record?.emailDisplay ?? '';
    // Someone who may not act on this invitation sees only why: never the guest's link.
    if (!outcome.emailed && (!outcome.record || outcome.refusal?.code === 'notOwner' || outcome.status === 'failed')) {
      const reason = outcome.refusal?.message ?? 'Nothing was sent.';
      if (!outcome.record || outcome.refusal?.code !== 'unknownSite') return cardInvokeResponse(expandCard('inviteResult', refusedCardData(reason)));
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
    help: [
      { title: 'Invite a guest (I ask for the details)', example: 'invite a guest', audience: 'owners' },
      { title: 'Invite a guest in one message', example: 'invite Jane Doe <jane@fabrikam.com> to Project Falcon', audience: 'owners' },
      { title: "Check a guest's invitation", example: 'status of jane@fabrikam.com', audience: 'owners' },
      { title: 'List the invitations you made', example: 'my invitations', audience: 'owners' },
    ],
  };
}

function refusedCardData(message: string): Record<string, unknown> {
  return {
    headline: 'Nothing was changed',
    hasDetail: true,
    detail: message,
    isCompleted: false,
    isPartial: false,
    guestName: '',
    guestEmail: '',
    siteName: '',
    siteUrl: '',
    hasMethod: false,
    methodLabel: '',
    showRedeemLink: false,
    redeemUrl: '',
    linkHeading: '',
    emailStatus: '',
    dontOpen: '',
    canSendEmail: false,
    hasNotice: false,
    notice: '',
    guestWillSee: [],
    showTenantLink: false,
    tenantSignInUrl: '',
    recordId: '',
  };
}
