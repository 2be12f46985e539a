import { ActivityTypes, type Activity, type Middleware, type TurnContext } from 'botbuilder';
import type { Logger } from '../../shared/logger';
import type { ChannelIdentityRepository } from '../../usecases/ports/channelIdentities';

/**
 * Refuses an activity whose identity fields do not agree:
 * - `conversation.tenantId` and `channelData.tenant.id` name different tenants (the tenant guard
 *   would otherwise judge by one of them only);
 * - `from.id` (the channel account) and `from.aadObjectId` (the Entra user every right is checked
 *   against) belong to two different people as far as the bot has seen them (ChannelIdentityRepository).
 *
 * In local mode the server asks `problem()` before the turn and answers 400 with the reason; with
 * Bot Framework authentication the activity is dropped here and logged (ids only, no names or text).
 */
export type IdentityProblem = 'tenantMismatch' | 'missingChannelAccount' | 'channelAccountBelongsToAnother' | 'objectIdBelongsToAnother';

const REASONS: Record<IdentityProblem, string> = {
  tenantMismatch: 'conversation.tenantId and channelData.tenant.id name different tenants.',
  missingChannelAccount: 'from.aadObjectId comes without from.id.',
  channelAccountBelongsToAnother: 'from.id belongs to a different user than from.aadObjectId.',
  objectIdBelongsToAnother: 'from.aadObjectId belongs to a different channel account than from.id.',
};

export function identityProblemMessage(problem: IdentityProblem): string {
  return `The activity's identity fields disagree: ${REASONS[problem]}`;
}

type IdentityFields = Pick<Partial<Activity>, 'from' | 'conversation' | 'channelData' | 'channelId'>;

export class IdentityGuard implements Middleware {
  constructor(
    private readonly accounts: Pick<ChannelIdentityRepository, 'checkAndRemember'>,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  /** Null when the fields agree (a first sighting of a pair is remembered). Never rejects on odd input. */
  async problem(activity: IdentityFields): Promise<IdentityProblem | null> {
    const conversationTenant = text(activity.conversation?.tenantId);
    const channelDataTenant = text(channelDataTenantId(activity.channelData));
    if (conversationTenant && channelDataTenant && conversationTenant.toLowerCase() !== channelDataTenant.toLowerCase()) {
      return 'tenantMismatch';
    }
    const tenantId = conversationTenant ?? channelDataTenant;
    const channelUserId = text(activity.from?.id);
    const aadObjectId = text(activity.from?.aadObjectId);
    // No object id means no rights anywhere; an object id without the account it belongs to cannot be checked.
    if (!aadObjectId) return null;
    if (!channelUserId) return 'missingChannelAccount';
    if (!tenantId) return null;
    const check = await this.accounts.checkAndRemember({ channelId: text(activity.channelId) ?? '', tenantId, channelUserId, aadObjectId });
    return check.ok ? null : check.reason;
  }

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    const problem = await this.problem(context.activity);
    if (!problem) {
      await next();
      return;
    }
    this.logger.warn(
      { problem, activityType: context.activity.type, aadObjectId: context.activity.from?.aadObjectId },
      'activity with disagreeing identity fields dropped',
    );
    if (context.activity.type === ActivityTypes.Invoke) {
      await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status: 400, body: null } });
    }
  }
}

function channelDataTenantId(channelData: unknown): unknown {
  if (!channelData || typeof channelData !== 'object') return undefined;
  const tenant = (channelData as { tenant?: unknown }).tenant;
  if (!tenant || typeof tenant !== 'object') return undefined;
  return (tenant as { id?: unknown }).id;
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed ? trimmed : undefined;
}
