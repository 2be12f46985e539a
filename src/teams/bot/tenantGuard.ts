import { ActivityTypes, type Middleware, type TurnContext } from 'botbuilder';
import type { Logger } from '../../shared/logger';
import { tenantOfActivity } from './actor';

/**
 * Drops activities from any tenant other than the one the bot serves (a multi-tenant app can
 * be installed elsewhere; its users must not reach this tenant's directory). Activities that
 * name no tenant pass: they carry no Entra identity, so every feature already treats them as
 * having no rights. An invoke is answered 403 so the client does not wait.
 */
export class TenantGuard implements Middleware {
  private readonly tenantId: string;

  constructor(
    tenantId: string,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {
    this.tenantId = tenantId.toLowerCase();
  }

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    const tenant = tenantOfActivity(context.activity);
    if (tenant === undefined || tenant.toLowerCase() === this.tenantId) {
      await next();
      return;
    }
    this.logger.warn({ tenantId: tenant, activityType: context.activity.type }, 'activity from another tenant dropped');
    if (context.activity.type === ActivityTypes.Invoke) {
      await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status: 403, body: null } });
    }
  }
}
