import type { Clock } from '../../domain/clock';
import type { Logger } from '../../shared/logger';
import { isDirectoryError } from '../ports/Directory';
import type { ScheduledPayload, ScheduledWork, ScheduledWorkRepository, WorkSettlement } from '../ports/scheduler';

/**
 * Takes due work from the store and hands each item to the handler of its kind, one item at a
 * time, then settles it: done, rescheduled (the next step of a series) or retried with backoff
 * when the handler threw. Several instances may run it over one store: the store's claim makes
 * exactly one of them act on an item; a claim left by a crashed instance is taken over at once.
 *
 * Handlers must be idempotent on their own records (a claim that ran out, or a crash between the
 * work and the settle, runs the handler again): the runner guarantees "one at a time", not "once".
 */

/** What a handler decided; a handler that throws is retried with backoff. */
export type HandlerResult =
  | { outcome: 'done' }
  | { outcome: 'reschedule'; dueAt: string; payload?: ScheduledPayload }
  /** Try again later with this delay (Graph said when: Retry-After), counted as a failed attempt. */
  | { outcome: 'retry'; delayMs: number; error: string };

export type WorkHandler = (work: ScheduledWork) => Promise<HandlerResult>;

export interface WorkRunnerOptions {
  /** How long a claim holds while the holder lives (default 5 min). */
  leaseMs?: number;
  /** Items claimed per round (default 20). */
  batch?: number;
  /** Rounds per pass at most, so one pass ends even with a flood of work (default 50). */
  maxRounds?: number;
  /** How often start() looks for due work (default 60 s). */
  intervalMs?: number;
  /** First retry after this (default 1 min), doubling per attempt up to maxBackoffMs (default 6 h). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface WorkRunnerDeps {
  work: ScheduledWorkRepository;
  /** This instance as a lease holder (Repositories.holders.holderId). */
  holderId: string;
  clock: Clock;
  handlers: Readonly<Record<string, WorkHandler>>;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  options?: WorkRunnerOptions;
}

export interface WorkPass {
  done: number;
  rescheduled: number;
  retried: number;
  /** Settles refused because the work moved on meanwhile (rescheduled, cancelled, taken over). */
  superseded: number;
}

/** Exponential backoff for the n-th failed attempt (1-based), capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(baseMs * 2 ** exponent, maxMs);
}

/** A short reason for the record: never a message that could carry an address or a name. */
export function failureReason(error: unknown): string {
  if (isDirectoryError(error)) return `directory: ${error.code}`;
  if (error instanceof Error) return error.name || 'Error';
  return 'failed';
}

export class ScheduledWorkRunner {
  private readonly leaseMs: number;
  private readonly batch: number;
  private readonly maxRounds: number;
  private readonly intervalMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<WorkPass> | null = null;
  private stopped = false;

  constructor(private readonly deps: WorkRunnerDeps) {
    const o = deps.options ?? {};
    this.leaseMs = o.leaseMs ?? 5 * 60_000;
    this.batch = o.batch ?? 20;
    this.maxRounds = o.maxRounds ?? 50;
    this.intervalMs = o.intervalMs ?? 60_000;
    this.backoffMs = o.backoffMs ?? 60_000;
    this.maxBackoffMs = o.maxBackoffMs ?? 6 * 60 * 60_000;
  }

  /** One pass: everything due now (catch-up included), then it returns what it did. */
  async runOnce(): Promise<WorkPass> {
    if (this.running) return this.running;
    this.running = this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<WorkPass> {
    const tally: WorkPass = { done: 0, rescheduled: 0, retried: 0, superseded: 0 };
    for (let round = 0; round < this.maxRounds && !this.stopped; round += 1) {
      const claimed = await this.deps.work.claimDue(this.deps.holderId, { leaseMs: this.leaseMs, limit: this.batch });
      for (const item of claimed) {
        if (this.stopped) break;
        await this.runItem(item, tally);
      }
      if (claimed.length < this.batch) break;
    }
    return tally;
  }

  private async runItem(item: ScheduledWork, tally: WorkPass): Promise<void> {
    const handler = Object.hasOwn(this.deps.handlers, item.kind) ? this.deps.handlers[item.kind] : undefined;
    let settlement: WorkSettlement;
    if (!handler) {
      // Perhaps a newer instance knows it: kept, tried again later, never dropped.
      settlement = this.retryAt(item, this.maxBackoffMs, `no handler for ${item.kind}`);
    } else {
      try {
        const result = await handler(item);
        settlement = result.outcome === 'retry' ? this.retryAt(item, Math.max(result.delayMs, 0), result.error) : result;
      } catch (error) {
        const reason = failureReason(error);
        const delay = isDirectoryError(error) && error.retryAfterMs ? error.retryAfterMs : backoffDelay(item.attempts + 1, this.backoffMs, this.maxBackoffMs);
        this.deps.logger?.warn({ kind: item.kind, attempts: item.attempts + 1, reason }, 'scheduled work failed; retrying later');
        settlement = this.retryAt(item, delay, reason);
      }
    }
    const settled = await this.deps.work.settle(item.kind, item.subject, this.deps.holderId, item.version, settlement);
    if (!settled) tally.superseded += 1;
    else if (settlement.outcome === 'done') tally.done += 1;
    else if (settlement.outcome === 'reschedule') tally.rescheduled += 1;
    else tally.retried += 1;
  }

  private retryAt(item: ScheduledWork, delayMs: number, error: string): WorkSettlement {
    return { outcome: 'retry', dueAt: new Date(this.deps.clock.now().getTime() + delayMs).toISOString(), error };
  }

  /** Runs a pass now and every intervalMs (an unref'd timer: it never keeps the process alive). */
  start(): void {
    if (this.timer || this.stopped) return;
    const tick = (): void => {
      if (this.running || this.stopped) return;
      this.runOnce().catch((error: unknown) => {
        this.deps.logger?.error({ reason: failureReason(error) }, 'scheduled work pass failed');
      });
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  /** Resolves when the pass running now (if any) has finished. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** Stops taking work; resolves once the item in hand is settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.idle();
  }
}
