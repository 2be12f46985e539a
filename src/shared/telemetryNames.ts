/**
 * The telemetry vocabulary: instrumentation scope, span and metric names, attribute keys, and the
 * rules that keep attribute values short identifiers (see ./telemetry.ts for the privacy rule).
 */
/** Instrumentation scope of every span and metric. */
export const INSTRUMENTATION_SCOPE = 'guest-onboarding-bot';

export const SPAN_NAMES = {
  /** Followed by the turn's kind: "bot.turn message:invite". */
  turn: 'bot.turn',
  bulkBatch: 'bulk.batch',
  // Graph request spans are named by their operation, e.g. "GET /users/{id}".
} as const;

export const METRIC_NAMES = {
  turnDuration: 'bot.turn.duration',
  graphRequests: 'graph.requests',
  graphThrottled: 'graph.throttled',
  invitationsSent: 'invitations.sent',
  bulkJobsActive: 'bulk.jobs.active',
  bulkRowsWaiting: 'bulk.rows.waiting',
} as const;

export const ATTRIBUTES = {
  turnKind: 'bot.turn.kind',
  turnOutcome: 'bot.turn.outcome',
  activityType: 'bot.activity.type',
  channel: 'bot.channel',
  conversationType: 'bot.conversation.type',
  graphOperation: 'graph.operation',
  httpMethod: 'http.request.method',
  urlTemplate: 'url.template',
  statusCode: 'http.response.status_code',
  retryCount: 'graph.retry_count',
  throttled: 'graph.throttled',
  errorType: 'error.type',
  bulkJobId: 'bulk.job.id',
  bulkRows: 'bulk.batch.rows',
  bulkLookups: 'bulk.batch.lookups',
  bulkInvitations: 'bulk.batch.invitations',
  bulkExisting: 'bulk.batch.existing',
  invitationSource: 'invitation.source',
} as const;

/** ok; error (it threw, or answered with an error); refused (a guard stopped it before the bot ran). */
export type TurnOutcome = 'ok' | 'error' | 'refused';
export type InvitationSource = 'chat' | 'approval' | 'bulk';

/** Values that become attributes must be short identifiers, never free text. */
const SAFE_LABEL = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,79}$/;
export function safeLabel(value: string | undefined, fallback = 'other'): string {
  return value !== undefined && SAFE_LABEL.test(value) ? value : fallback;
}

/** The class name of what was thrown (never its message: it can quote what a user typed). */
export function errorType(error: unknown): string {
  if (!(error instanceof Error)) return 'Error';
  // botbuilder-dialogs wraps what a dialog threw in a DialogContextError: name the original.
  const wrapped = (error as { error?: unknown }).error;
  if (error.name === 'DialogContextError' && wrapped instanceof Error) return errorType(wrapped);
  return safeLabel(error.name, 'Error');
}
