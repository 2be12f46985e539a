import { ActivityTypes, MessageFactory, type Middleware, type TurnContext } from 'botbuilder';
import type { Directory } from '../../usecases/ports/Directory';
import type { Logger } from '../../shared/logger';
import { actorFromActivity } from './actor';
import { errorCard } from '../cards/errorCard';
import { cardInvokeResponse } from './invokeResponse';

/**
 * A person of the tenant whom the directory does not know (deleted, not yet replicated, or a
 * directory the bot reads is not theirs) can use none of the features: every one of them checks
 * rights against the directory. Instead of each feature failing in its own way, they get one clear
 * answer, for messages and card clicks alike. Installs and other events pass (the welcome still
 * works), as do activities that name no Entra user: the features already treat those as "no rights".
 */
export class KnownPersonGuard implements Middleware {
  constructor(
    private readonly directory: Pick<Directory, 'getUser' | 'readPolicies'>,
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
  ) {}

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    const activity = context.activity;
    const isCardAction = activity.type === ActivityTypes.Invoke && activity.name === 'adaptiveCard/action';
    const actor = activity.type === ActivityTypes.Message || isCardAction ? actorFromActivity(activity) : null;
    if (!actor) {
      await next();
      return;
    }
    let known = true;
    try {
      known = (await this.directory.getUser(actor.userId)) !== null;
    } catch (error) {
      // The directory could not answer: let the feature meet (and explain) the same failure.
      this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not check the person in the directory');
    }
    if (known) {
      await next();
      return;
    }
    this.logger.info({ aadObjectId: actor.userId }, 'activity from a person the directory does not know');
    const message = await this.unknownPersonMessage();
    if (isCardAction) {
      await context.sendActivity({
        type: ActivityTypes.InvokeResponse,
        value: cardInvokeResponse(errorCard({ title: "I can't find your account", message })),
      });
      return;
    }
    const reply = MessageFactory.text(message);
    reply.textFormat = 'plain';
    await context.sendActivity(reply);
  }

  private async unknownPersonMessage(): Promise<string> {
    let tenantName = 'your organisation';
    try {
      tenantName = (await this.directory.readPolicies()).tenantDisplayName || tenantName;
    } catch {
      // The name is a courtesy; the answer stands without it.
    }
    return unknownPersonMessage(tenantName);
  }
}

export function unknownPersonMessage(tenantName: string): string {
  return (
    `I can't find your account in ${tenantName}'s directory, so I can't invite anyone, show approvals or invitations, or answer guest questions for you. ` +
    `If your account was created or you accepted an invitation in the last few minutes, try again shortly. ` +
    `Otherwise ask your IT admin to check that your account is in ${tenantName}'s directory (Microsoft Entra admin center > Users).`
  );
}
