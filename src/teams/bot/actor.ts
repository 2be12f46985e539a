import type { Activity } from 'botbuilder';
import type { Actor } from '../../domain/actor';

type ActivityIdentity = Pick<Partial<Activity>, 'from' | 'conversation' | 'channelData'>;

/**
 * Who is acting, read from the activity the channel signed (never from card data).
 * Null when the channel did not say who the Entra user is or which tenant they act in:
 * callers treat that as "no rights", not as an error.
 */
export function actorFromActivity(activity: ActivityIdentity): Actor | null {
  const userId = nonEmpty(activity.from?.aadObjectId);
  const tenantId = tenantOfActivity(activity);
  if (!userId || !tenantId) return null;
  return { userId, tenantId, name: activity.from?.name?.trim() ?? '' };
}

/** The Entra tenant an activity comes from (conversation.tenantId, or Teams' channelData.tenant.id). */
export function tenantOfActivity(activity: Pick<Partial<Activity>, 'conversation' | 'channelData'>): string | undefined {
  return nonEmpty(activity.conversation?.tenantId) ?? nonEmpty(channelDataTenantId(activity.channelData));
}

function channelDataTenantId(channelData: unknown): string | undefined {
  if (!channelData || typeof channelData !== 'object') return undefined;
  const tenant = (channelData as { tenant?: unknown }).tenant;
  if (!tenant || typeof tenant !== 'object') return undefined;
  const id = (tenant as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

function nonEmpty(value: string | undefined | null): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
