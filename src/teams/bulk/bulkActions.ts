import { TurnContext, type InvokeResponse } from 'botbuilder';
import type { ActionData, ActionHandler, RefusedClickOf } from '../bot/feature';
import { cardInvokeResponse } from '../bot/invokeResponse';
import { BULK_AUDIT_SUBJECT, type ActionResult, type BulkAttempt, type BulkJobService } from '../../usecases/bulk/bulkJobService';
import { PRIVATE_ONLY, type BulkCards } from './bulkCards';

/**
 * The bulk cards' buttons (Action.Execute): Confirm, Cancel, Get the results file, Send
 * Microsoft's invitation email. Who clicked is re-checked by the use case every time; the answer
 * is the job's card, updated.
 */
export function bulkActions(service: BulkJobService, cards: BulkCards): Record<string, ActionHandler> {
  const answer = (result: ActionResult, whoMayAct: (name: string) => string): InvokeResponse => {
    switch (result.kind) {
      case 'stale':
        return cardInvokeResponse(cards.stale());
      case 'notYours':
        return cardInvokeResponse(cards.notYours(whoMayAct(result.requesterName)));
      case 'current':
        return cardInvokeResponse(cards.current(result.view, result.notice));
    }
  };

  const confirm: ActionHandler = async (context, actor, data) => {
    const result = await service.confirm(actor, {
      jobId: data.jobId,
      siteId: data.siteId,
      lookAlikeConfirmed: data.lookAlikeConfirmed,
      conversationRef: TurnContext.getConversationReference(context.activity) as unknown as Record<string, unknown>,
      cardActivityId: context.activity.replyToId ?? null,
    });
    switch (result.kind) {
      case 'summary':
        return cardInvokeResponse(cards.summary(result.job, result.siteChoices, result.notice));
      case 'started':
        return cardInvokeResponse(cards.progress(result.view));
      default:
        return answer(result, (name) => `Only ${name} can confirm this bulk invitation.`);
    }
  };

  const cancel: ActionHandler = async (_context, actor, data) =>
    answer(await service.cancel(actor, data.jobId), (name) => `Only ${name} or an approver can cancel this bulk invitation.`);

  const results: ActionHandler = async (context, actor, data) => {
    const conversationType = context.activity.conversation?.conversationType;
    const result = await service.results(actor, data.jobId, conversationType === undefined || conversationType === 'personal');
    switch (result.kind) {
      case 'privateOnly':
        return cardInvokeResponse(cards.done(result.view, null, PRIVATE_ONLY));
      case 'link':
        return cardInvokeResponse(cards.results(result.view, result.url, 'Here is your results file.'));
      default:
        return answer(result, (name) => `Only ${name} or an approver can get these results.`);
    }
  };

  const sendEmails: ActionHandler = async (_context, actor, data) =>
    answer(await service.sendEmails(actor, data.jobId), (name) => `Only ${name} or an approver can have Microsoft email these guests.`);

  return { 'bulk.confirm': confirm, 'bulk.cancel': cancel, 'bulk.results': results, 'bulk.sendEmails': sendEmails };
}

/** What each button attempts (bulkJob.refused), for a click from someone Teams did not identify. */
export function bulkRefusedClicks(): Record<string, RefusedClickOf> {
  const onJob = (attempted: BulkAttempt) => (data: ActionData) => ({ event: BULK_AUDIT_SUBJECT, subjectType: BULK_AUDIT_SUBJECT, subjectId: data.jobId, attempted });
  return { 'bulk.confirm': onJob('confirm'), 'bulk.cancel': onJob('cancel'), 'bulk.results': onJob('results'), 'bulk.sendEmails': onJob('sendEmails') };
}
