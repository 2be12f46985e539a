import type { PacerWindowStore } from '../../usecases/ports/pacerWindow';

/** The shared pacer window in memory (one process): the same answers as the SQLite one. */
export class MemoryPacerWindowStore implements PacerWindowStore {
  /** Start times by name, oldest first. */
  private readonly starts = new Map<string, number[]>();
  private readonly holds = new Map<string, number>();

  async tryStart(name: string, limit: number, windowMs: number, at: () => number): Promise<number> {
    const now = at();
    const hold = this.holds.get(name);
    if (hold !== undefined && hold > now) return hold - now;
    const recent = (this.starts.get(name) ?? []).filter((at) => at > now - windowMs);
    this.starts.set(name, recent);
    if (recent.length >= limit) {
      // The oldest of the `limit` most recent starts frees the next slot.
      const newestFirst = [...recent].sort((a, b) => b - a);
      const oldestCounted = newestFirst[limit - 1] ?? now;
      return Math.max(1, oldestCounted + windowMs - now);
    }
    recent.push(now);
    return 0;
  }

  async holdOff(name: string, until: number): Promise<void> {
    this.holds.set(name, Math.max(this.holds.get(name) ?? until, until));
  }

  async countSince(name: string, since: number): Promise<number> {
    return (this.starts.get(name) ?? []).filter((at) => at > since).length;
  }
}
