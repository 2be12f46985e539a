/**
 * The start times of recent calls to a rate-limited endpoint, kept in the store so that every
 * process sharing it (and a process restarted a second ago) counts the same window: a restart
 * cannot burst past the tenant's limit, and two processes do not each take the whole of it.
 * Times are epoch milliseconds.
 */
export interface PacerWindowStore {
  /**
   * Records a start at `now` when fewer than `limit` started within `windowMs` (and no hold-off
   * is in force): resolves 0. Otherwise records nothing and resolves how long to wait, in ms.
   */
  tryStart(name: string, limit: number, windowMs: number, now: number): Promise<number>;
  /** Nobody starts before `until` (a 429's Retry-After applies to every caller). A later hold-off never shortens an earlier one. */
  holdOff(name: string, until: number): Promise<void>;
  /** Starts after `since`. */
  countSince(name: string, since: number): Promise<number>;
}
