import { ActivityTypes, type Activity, type Attachment, type ConversationReference, type TurnContext } from 'botbuilder';
import { cardAttachment, type AdaptiveCard } from '../cards';

/**
 * The part of an adapter proactive messaging needs. CloudAdapter satisfies it; tests can pass
 * a small fake. (BotAdapter's base implementation throws 'NotImplemented', TestAdapter included.)
 */
export interface ProactiveAdapter {
  continueConversationAsync(
    botAppId: string,
    reference: Partial<ConversationReference>,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<void>;
}

/** Where a notification went wrong, in terms a feature can act on. */
export type NotifyFailureReason =
  /** 403: the bot was removed from the chat/team, uninstalled, or blocked by the user. */
  | 'forbidden'
  /** 404: the conversation (or the message to update) no longer exists. */
  | 'notFound'
  /** 429: the channel throttled us; try again later. */
  | 'throttled'
  /** Anything else (network, 5xx, bad reference). */
  | 'failed';

export type NotifyResult =
  | { ok: true; activityId: string | undefined }
  | { ok: false; reason: NotifyFailureReason; statusCode: number | undefined; message: string };

/** Only what a log line needs: pino's Logger fits. */
export interface NotifierLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

const silentLogger: NotifierLogger = { warn: () => undefined };

/**
 * Sends and updates messages outside a turn, from stored conversation references
 * (ConversationReferenceRepository: pass `stored.reference`). A delivery failure is returned as
 * `{ ok: false, reason }` and logged (status, error code, conversation id; never headers or
 * tokens), never thrown: a notification that cannot be delivered must not break the job or
 * the approval that wanted to send it.
 */
export class Notifier {
  /**
   * @param botAppId the bot's Microsoft App Id; '' in local mode (no credentials).
   */
  constructor(
    private readonly adapter: ProactiveAdapter,
    private readonly botAppId: string,
    private readonly logger: NotifierLogger = silentLogger,
  ) {}

  /** Posts a new message (text or a full activity, e.g. with a card attachment) to the conversation. */
  async send(reference: Partial<ConversationReference>, activityOrText: string | Partial<Activity>): Promise<NotifyResult> {
    const activity: Partial<Activity> =
      typeof activityOrText === 'string' ? { type: ActivityTypes.Message, text: activityOrText } : activityOrText;
    return this.run('send', reference, async (context) => {
      const response = await context.sendActivity(activity);
      return response?.id;
    });
  }

  /** Replaces a message the bot posted earlier (by its activity id) with a new card, in place. */
  async update(
    reference: Partial<ConversationReference>,
    activityId: string,
    card: AdaptiveCard | Attachment,
  ): Promise<NotifyResult> {
    const attachment = isAttachment(card) ? card : cardAttachment(card);
    return this.run('update', reference, async (context) => {
      await context.updateActivity({ type: ActivityTypes.Message, id: activityId, attachments: [attachment] });
      return activityId;
    });
  }

  private async run(
    operation: 'send' | 'update',
    reference: Partial<ConversationReference>,
    deliver: (context: TurnContext) => Promise<string | undefined>,
  ): Promise<NotifyResult> {
    const conversationId = reference.conversation?.id;
    if (!conversationId || !reference.serviceUrl) {
      const message = 'The conversation reference has no conversation id or service URL.';
      this.logger.warn({ operation, conversationId }, `proactive ${operation} skipped: ${message}`);
      return { ok: false, reason: 'failed', statusCode: undefined, message };
    }
    try {
      let activityId: string | undefined;
      await this.adapter.continueConversationAsync(this.botAppId, reference, async (context) => {
        activityId = await deliver(context);
      });
      return { ok: true, activityId };
    } catch (error) {
      const failure = describeFailure(error);
      this.logger.warn(
        { operation, conversationId, statusCode: failure.statusCode, code: failure.code, reason: failure.reason },
        `proactive ${operation} failed: ${failure.message}`,
      );
      return { ok: false, reason: failure.reason, statusCode: failure.statusCode, message: failure.message };
    }
  }
}

function isAttachment(card: AdaptiveCard | Attachment): card is Attachment {
  return typeof (card as Attachment).contentType === 'string';
}

interface FailureDescription {
  reason: NotifyFailureReason;
  statusCode: number | undefined;
  code: string | undefined;
  message: string;
}

/**
 * Reads the status and code from a connector error (RestError-like: statusCode, code, message)
 * without touching its request/response, which carry the Authorization header.
 */
export function describeFailure(error: unknown): FailureDescription {
  const fields = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
  const statusCode =
    typeof fields.statusCode === 'number' ? fields.statusCode : typeof fields.status === 'number' ? fields.status : undefined;
  const code = typeof fields.code === 'string' ? fields.code : undefined;
  const raw = error instanceof Error ? error.message : typeof error === 'string' ? error : 'unknown error';
  const reason: NotifyFailureReason =
    statusCode === 403 ? 'forbidden' : statusCode === 404 ? 'notFound' : statusCode === 429 ? 'throttled' : 'failed';
  return { reason, statusCode, code, message: redact(raw) };
}

/** Error text can echo request details; keep it short and strip anything token-like. */
function redact(message: string): string {
  const cleaned = message
    .replace(/Bearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer [redacted]')
    .replace(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[redacted-jwt]');
  return cleaned.length > 300 ? `${cleaned.slice(0, 299)}…` : cleaned;
}
