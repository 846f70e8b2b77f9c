/** Counting semaphore: at most `permits` holders; others wait in FIFO order. */
import { assert } from "../../shared/errors.ts";

export class Semaphore {
  private available: number;
  private readonly waiting: (() => void)[] = [];

  constructor(permits: number) {
    assert(Number.isInteger(permits) && permits >= 1, "a semaphore needs at least one permit");
    this.available = permits;
  }

  /** Waits for a permit; call the returned function exactly once to give it back. */
  async acquire(): Promise<() => void> {
    if (this.available > 0) this.available--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      assert(!released, "a permit is released once");
      released = true;
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.available++;
    };
  }
}
