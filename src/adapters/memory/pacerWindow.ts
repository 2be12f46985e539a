import { startOne, type PacerWindowStore, type StartAnswer } from '../../usecases/ports/pacerWindow';

/** The shared pacer window in memory (one process): the same answers as the SQLite one. */
export class MemoryPacerWindowStore implements PacerWindowStore {
  /** Start times by name, oldest first. */
  private readonly starts = new Map<string, number[]>();
  private readonly holds = new Map<string, number>();

  tryStart(name: string, limit: number, windowMs: number, at: () => number): Promise<number> {
    return startOne(this, name, limit, windowMs, at);
  }

  async tryStartSome(name: string, limit: number, windowMs: number, at: () => number, count: number): Promise<StartAnswer> {
    const now = at();
    const hold = this.holds.get(name);
    if (hold !== undefined && hold > now) return { started: 0, waitMs: hold - now };
    const recent = (this.starts.get(name) ?? []).filter((at) => at > now - windowMs);
    this.starts.set(name, recent);
    if (recent.length >= limit) {
      // The oldest of the `limit` most recent starts frees the next slot.
      const newestFirst = [...recent].sort((a, b) => b - a);
      const oldestCounted = newestFirst[limit - 1] ?? now;
      return { started: 0, waitMs: Math.max(1, oldestCounted + windowMs - now) };
    }
    const started = Math.max(1, Math.min(Math.floor(count), limit - recent.length));
    for (let i = 0; i < started; i++) recent.push(now);
    return { started, waitMs: 0 };
  }

  async moveStart(name: string, from: number, to: number): Promise<void> {
    const starts = this.starts.get(name) ?? [];
    const i = starts.indexOf(from);
    if (i >= 0) starts[i] = to;
  }

  async holdOff(name: string, until: number): Promise<void> {
    this.holds.set(name, Math.max(this.holds.get(name) ?? until, until));
  }

  async countSince(name: string, since: number): Promise<number> {
    return (this.starts.get(name) ?? []).filter((at) => at > since).length;
  }
}
