/**
 * The approvals feature: "pending" for approvers, and the Action.Execute verbs on approval
 * cards. Every handler answers with a full Adaptive Card and re-checks rights in the service;
 * the card data only says which request, never who is acting.
 */
import type { ConversationReference, InvokeResponse } from 'botbuilder';
import { z } from 'zod';
import type { ActionData, ActionHandler, BotFeature, RefusedClickOf } from '../bot/feature';
import type { Actor } from '../../domain/actor';
import { cardAttachment, type AdaptiveCard } from '../cards';
import { cardInvokeResponse } from '../bot/invokeResponse';
import { answerInputId, questionInputId, reasonInputId } from './cards/common';
import { noticeOnlyCard } from './cards/requestCard';
import { pendingListCard } from './cards/pendingCard';
import type { ApprovalService } from '../../usecases/approvals/approvalService';
import type { ActionOutcome, ActionStatus } from '../../usecases/approvals/deciding';
import type { ApprovalLogger } from '../../usecases/approvals/runtime';
import type { ApprovalView, Notice } from '../../usecases/approvals/notifications';
import type { ConversationLookup } from './approvalNotifier';

export const APPROVAL_VERBS = {
  approve: 'approval.approve',
  reject: 'approval.reject',
  moreInfo: 'approval.moreInfo',
  provideInfo: 'approval.provideInfo',
  cancel: 'approval.cancel',
  refresh: 'approval.refresh',
} as const;

export interface ApprovalFeatureServices {
  approvals: ApprovalService;
  /** Draws a view as its card (TeamsApprovalNotifier.render). */
  render(view: ApprovalView): Promise<AdaptiveCard>;
  /** The stored conversation references (a message in the approvals channel's thread makes the channel reachable). */
  conversations: ConversationLookup;
  logger?: ApprovalLogger;
}

/** What an approval button carries. Only identifies the request; never trusted for who or what may happen. */
const actionDataSchema = z.object({
  requestId: z.string().trim().min(1).max(100),
  version: z.coerce.number().int().positive().optional(),
  from: z.enum(['list', 'card']).optional(),
});

type Tone = 'good' | 'warning' | 'attention' | 'accent';

const TONES: Record<ActionStatus, Tone> = {
  applied: 'good',
  alreadyDecided: 'warning',
  forbidden: 'attention',
  notFound: 'attention',
  invalid: 'attention',
  changed: 'warning',
  unavailable: 'attention',
};

const PENDING_WORDS = /^(pending|approvals|pending approvals|show pending|list pending)[.!?]?$/i;

export function createApprovalFeature(services: ApprovalFeatureServices): BotFeature {
  const { approvals, render } = services;
  const logger = services.logger;
  const pendingCard = (requests: Parameters<typeof pendingListCard>[0], notice: Notice | null = null): AdaptiveCard =>
    pendingListCard(requests, approvals.now(), notice);

  /** Parses the button data; a malformed invoke gets a clear card and changes nothing. */
  const withRequest =
    (
      handle: (actor: Actor | null, data: z.infer<typeof actionDataSchema>, raw: ActionData) => Promise<AdaptiveCard>,
    ): ActionHandler =>
    async (_context, actor, raw): Promise<InvokeResponse> => {
      const parsed = actionDataSchema.safeParse(raw);
      if (!parsed.success) {
        return cardInvokeResponse(noticeOnlyCard('That button does not say which approval request it is for. Nothing was changed.'));
      }
      try {
        return cardInvokeResponse(await handle(actor, parsed.data, raw));
      } catch (error) {
        logger?.error({ err: error instanceof Error ? error.message : String(error) }, 'approvals: action failed');
        return cardInvokeResponse(
          noticeOnlyCard('Something went wrong while handling that click. Open the request again (say "pending") to see where it stands.'),
        );
      }
    };

  /** The card an approver sees after acting: the list if they acted from it, else the request card. */
  const approverResponse = async (
    actor: Actor | null,
    outcome: ActionOutcome,
    from: 'list' | 'card' | undefined,
  ): Promise<AdaptiveCard> => {
    const notice = outcome.message ? { text: outcome.message, tone: TONES[outcome.status] } : null;
    if (from === 'list' && outcome.status !== 'forbidden' && outcome.status !== 'unavailable') {
      const pending = await approvals.listPending(actor);
      if (pending) return pendingCard(pending, notice);
    }
    if (!outcome.request) return noticeOnlyCard(outcome.message, notice?.tone ?? 'attention');
    return render(await approvals.approverView(outcome.request, { mayDecide: outcome.mayDecide, notice }));
  };

  const requesterResponse = async (outcome: ActionOutcome): Promise<AdaptiveCard> => {
    const notice = outcome.message ? { text: outcome.message, tone: TONES[outcome.status] } : null;
    if (!outcome.request) return noticeOnlyCard(outcome.message, notice?.tone ?? 'attention');
    return render(await approvals.requesterView(outcome.request, notice));
  };

  const actions: Record<string, ActionHandler> = {
    [APPROVAL_VERBS.approve]: withRequest(async (actor, data) =>
      approverResponse(actor, await approvals.decide(actor, data.requestId, 'approve', null, data.version), data.from),
    ),
    [APPROVAL_VERBS.reject]: withRequest(async (actor, data, raw) =>
      approverResponse(
        actor,
        await approvals.decide(actor, data.requestId, 'reject', inputText(raw, reasonInputId(data.requestId)), data.version),
        data.from,
      ),
    ),
    [APPROVAL_VERBS.moreInfo]: withRequest(async (actor, data, raw) =>
      approverResponse(
        actor,
        await approvals.requestMoreInfo(actor, data.requestId, inputText(raw, questionInputId(data.requestId)), data.version),
        data.from,
      ),
    ),
    [APPROVAL_VERBS.provideInfo]: withRequest(async (actor, data, raw) =>
      requesterResponse(await approvals.provideInfo(actor, data.requestId, inputText(raw, answerInputId(data.requestId)))),
    ),
    [APPROVAL_VERBS.cancel]: withRequest(async (actor, data) => requesterResponse(await approvals.cancel(actor, data.requestId))),
    [APPROVAL_VERBS.refresh]: withRequest(async (actor, data) => {
      const outcome = await approvals.view(actor, data.requestId);
      if (!outcome.request) return noticeOnlyCard(outcome.message);
      return render(await approvals.approverView(outcome.request, { mayDecide: outcome.mayDecide }));
    }),
  };

  /** What each button attempts (approval.refused), for a click from someone Teams did not identify. */
  const onRequest = (attempted: string) => (data: ActionData) => ({ event: 'approval', subjectType: 'approval', subjectId: data.requestId, attempted });
  const refusedClicks: Record<string, RefusedClickOf> = {
    [APPROVAL_VERBS.approve]: onRequest('approve'),
    [APPROVAL_VERBS.reject]: onRequest('reject'),
    [APPROVAL_VERBS.moreInfo]: onRequest('askInfo'),
    [APPROVAL_VERBS.provideInfo]: onRequest('answer'),
    [APPROVAL_VERBS.cancel]: onRequest('cancel'),
    [APPROVAL_VERBS.refresh]: null,
  };

  return {
    name: 'approvals',
    async onMessage(dc, text, actor): Promise<boolean> {
      if (!PENDING_WORDS.test(text.trim())) return false;
      const pending = await approvals.listPending(actor);
      if (pending === null) {
        await dc.context.sendActivity(
          'Only guest approvers can list pending approval requests. If you asked for an invitation, you get a message here when it is decided.',
        );
        return true;
      }
      await dc.context.sendActivity({ attachments: [cardAttachment(pendingCard(pending))] });
      return true;
    },
    actions,
    refusedClicks,
    onConversationSeen: (reference) => conversationSeen(services, reference),
    help: [
      { title: 'See invitations waiting for your approval', example: 'pending', audience: 'admins' },
      {
        title: 'Approve, reject or ask for more information right on the request card',
        example: 'Approve / Reject… / Ask for more info…',
        audience: 'admins',
      },
    ],
  };
}

/** A text input's value from the invoke data (inputs arrive next to the button's own data). */
function inputText(data: ActionData, id: string): string | null {
  const value = data[id];
  return typeof value === 'string' ? value : null;
}

/**
 * Called on every activity (and on install) after the conversation reference was stored. A
 * message in the approvals channel's thread makes that channel reachable; otherwise the use case
 * sends whoever is in the conversation what could not reach them before.
 */
async function conversationSeen(services: ApprovalFeatureServices, reference: Partial<ConversationReference>): Promise<void> {
  const conversation = reference.conversation;
  if (!conversation?.id) return;
  const channelId = services.approvals.settings.approvalsChannelId;
  if (channelId && conversation.id !== channelId && conversation.id.split(';')[0] === channelId && reference.serviceUrl) {
    if (!(await services.conversations.get(channelId))) {
      // A message in the channel's thread: the channel itself is reachable at the same service URL.
      await services.conversations.upsert({ ...reference, conversation: { ...conversation, id: channelId } });
    }
    return;
  }
  const personal = conversation.conversationType ? conversation.conversationType === 'personal' : conversation.isGroup !== true;
  await services.approvals.onConversationSeen({
    conversationId: conversation.id,
    personal,
    userId: reference.user?.aadObjectId ?? null,
    userName: reference.user?.name ?? '',
    tenantId: conversation.tenantId ?? null,
  });
}
