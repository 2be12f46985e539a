/**
 * Runs a recovery pass now and then every `intervalMs`, one pass at a time (a slow pass is not
 * overlapped by the next), never keeping the process alive. Errors are the pass's own business.
 */
export class RecoveryLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(readonly intervalMs: number) {}

  start(pass: () => Promise<void>): void {
    if (this.timer || this.stopped) return;
    const tick = (): void => {
      if (this.running || this.stopped) return;
      this.running = pass()
        .catch(() => undefined)
        .finally(() => {
          this.running = null;
        });
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  /** Resolves when the pass running now (if any) has finished. */
  async idle(): Promise<void> {
    await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
