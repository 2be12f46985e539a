/**
 * The start times of recent calls to a rate-limited endpoint, kept in the store so that every
 * process sharing it (and a process restarted a second ago) counts the same window: a restart
 * cannot burst past the tenant's limit, and two processes do not each take the whole of it.
 * Times are epoch milliseconds.
 */
/** What tryStartSome recorded: `started` starts (0 or more), or none and the wait before asking again. */
export interface StartAnswer {
  started: number;
  waitMs: number;
}

/** tryStart from tryStartSome (every adapter answers both the same way). */
export async function startOne(store: Pick<PacerWindowStore, 'tryStartSome'>, name: string, limit: number, windowMs: number, at: () => number): Promise<number> {
  const answer = await store.tryStartSome(name, limit, windowMs, at, 1);
  return answer.started > 0 ? 0 : answer.waitMs;
}

export interface PacerWindowStore {
  /**
   * Records a start when fewer than `limit` started within `windowMs` (and no hold-off is in
   * force): resolves 0. Otherwise records nothing and resolves how long to wait, in ms.
   *
   * `at` is read when the start is decided, and again for every attempt an adapter makes (a
   * compare-and-set refused because another process wrote first is decided anew): the start is
   * recorded at, and the window judged from, the last reading. So a start decided after a wait
   * or a retry is counted when it was decided, not when the caller first asked. The caller may
   * return a time a little ahead of its clock (when it will really send) and then send at it.
   */
  tryStart(name: string, limit: number, windowMs: number, at: () => number): Promise<number>;
  /**
   * tryStart for up to `count` starts at once, all recorded at the same reading of `at`, in one
   * write: as many as the window has room for (at least one, `waitMs` 0), or none and how long to
   * wait. A process with several callers waiting records them together: one write to the store
   * instead of one each (a shared store bills and serialises every write).
   */
  tryStartSome(name: string, limit: number, windowMs: number, at: () => number, count: number): Promise<StartAnswer>;
  /**
   * The start recorded at `from` really happened at `to` (later): it is counted from then on.
   * Never refused, never waits (it is the same start, only later). Nothing happens when no start
   * is recorded at `from` (it has left the window already).
   */
  moveStart(name: string, from: number, to: number): Promise<void>;
  /** Nobody starts before `until` (a 429's Retry-After applies to every caller). A later hold-off never shortens an earlier one. */
  holdOff(name: string, until: number): Promise<void>;
  /** Starts after `since`. */
  countSince(name: string, since: number): Promise<number>;
}
