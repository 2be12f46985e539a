import type { Middleware, TurnContext } from 'botbuilder';
import { traceTurn } from '../../shared/telemetry';

/**
 * The first adapter middleware: one `bot.turn` span per incoming activity around everything the
 * turn does, the guards included (they read the directory too), so their Graph requests and log
 * lines belong to the turn. A turn a guard stops before the bot runs ends with outcome "refused".
 */
export class TurnTelemetry implements Middleware {
  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    await traceTurn(context.turnState, context.activity, next);
  }
}
