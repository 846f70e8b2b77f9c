/**
 * A sleep that another part of the program can cut short: a loop that waits
 * for a timeout *or* new work (a file event, a batch queued) sleeps here and
 * whoever brings the work calls `wake()`.
 */
export class WakeableSleep {
  private wakeUp: (() => void) | null = null;

  /** Resolves after `ms`, or at the next `wake()`, whichever comes first. */
  async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  wake(): void {
    this.wakeUp?.();
  }
}
