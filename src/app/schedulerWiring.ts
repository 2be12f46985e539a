import type { BotFeature } from '../teams/bot/feature';
import { ScheduledWorkRunner, type WorkHandler } from '../usecases/scheduling/workRunner';
import type { BotServices } from './services';

export interface SchedulerFeature extends BotFeature {
  readonly runner: ScheduledWorkRunner;
  /** Resolves once the preparation and the first pass after start() have finished (tests, tools). */
  firstPass(): Promise<void>;
}

/**
 * The one ScheduledWorkRunner of the process, over the store's scheduled work, as a feature that
 * starts and stops with the app. Its handlers are ONE merged map of every feature's due work
 * (lifecycle.…, review.…, audit.…): a kind with no handler is retried later with backoff, never
 * dropped, so every instance must know every kind. The first pass runs at start, so work that fell
 * due while the bot was down is caught up; then one pass every SCHEDULER_INTERVAL_SECONDS. Several
 * instances may run it over one store: the store's claim lets exactly one act on each item.
 *
 * `beforeFirstPass` runs once before that first pass (local mode seeds the demo guests' access).
 */
export function buildScheduler(
  services: Pick<BotServices, 'repositories' | 'clock' | 'logger' | 'config'>,
  handlers: Readonly<Record<string, WorkHandler>>,
  options: { beforeFirstPass?: () => Promise<void> } = {},
): SchedulerFeature {
  const runner = new ScheduledWorkRunner({
    work: services.repositories.scheduledWork,
    holderId: services.repositories.holders.holderId,
    clock: services.clock,
    handlers,
    logger: services.logger,
    options: { intervalMs: services.config.env.SCHEDULER_INTERVAL_SECONDS * 1000 },
  });
  let stopped = false;
  let preparing: Promise<void> = Promise.resolve();
  return {
    name: 'scheduler',
    runner,
    start: async () => {
      // Preparing (seeding the demo guests) and the first pass run beside the first turns: start-up
      // does not wait for them (on a remote store they take seconds), and a stop that comes first wins.
      preparing = (async () => {
        try {
          await options.beforeFirstPass?.();
        } catch (error) {
          services.logger.warn({ err: error instanceof Error ? error.name : 'error' }, 'scheduler: preparing the first pass failed');
        }
        if (!stopped) runner.start();
      })();
    },
    firstPass: async () => {
      await preparing;
      await runner.idle();
    },
    stop: async () => {
      stopped = true;
      await preparing;
      await runner.stop();
    },
  };
}
