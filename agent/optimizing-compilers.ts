/**
 * V8's optimizing compilers, held back while the agent is idle and let go
 * once it has load (docs/ARCHITECTURE.md, Node runtime options per role).
 *
 * The agent's role starts with `--turbo-filter=-* --maglev-filter=-*`
 * (packaging/node-options.json): TurboFan and Maglev are set up as usual
 * but refuse every function, so code runs in V8's interpreter and its
 * baseline compiler only. An agent tailing quiet files never needs more,
 * and never pays for the optimizing compilers' code pages, zones and code
 * (~10 MB of RSS with 1,000 idle files). Shipping fast needs them, so once
 * the tailer has read `loadBytes` (1 MiB) within one `intervalMs` (1 s),
 * this sets the role's `v8_flags_under_load` (`--turbo-filter=*
 * --maglev-filter=*`) with `v8.setFlagsFromString`, once: V8 reads the
 * filters at each optimization decision, so hot code is optimized from
 * then on, for the life of the process (a restart holds them back again).
 *
 * The bytes read are looked at each time a batch is spooled (`observe`:
 * an agent that starts on a backlog lets them go at its first batch, a few
 * milliseconds in) and by a timer every `intervalMs` (an agent whose
 * transforms drop every line it reads spools nothing, and is still busy).
 *
 * Only a process started with the role's filters sets anything
 * (packaging/role-options.ts, `roleFlagsUnderLoad`): an agent started
 * another way (from the sources, `logship up`, `LOGSHIP_ROLE_OPTIONS=off`)
 * runs as Node started it, and its state is `not_deferred`.
 */
import { setFlagsFromString } from "node:v8";
import type { Logger } from "../shared/logger.ts";

/** Read in one window, this much is load: about 1 % of what one core ships (docs/BENCHMARKS.md, delivery). */
export const LOAD_BYTES = 1 << 20;
/** How often the bytes read are looked at while the compilers are deferred. */
export const CHECK_INTERVAL_MS = 1000;

/** `deferred`: held back until load; `on`: let go by load; `not_deferred`: the process did not start with them held back. */
export type OptimizingCompilersState = "deferred" | "on" | "not_deferred";

export interface OptimizingCompilersOptions {
  /** The flags to set under load; none: nothing is deferred. */
  flags: readonly string[];
  /** Bytes the tailer has read since start. */
  bytesRead: () => number;
  logger: Logger;
  loadBytes?: number;
  intervalMs?: number;
  /** `v8.setFlagsFromString` (tests pass their own). */
  setFlags?: (flags: string) => void;
}

export class OptimizingCompilers {
  private readonly options: OptimizingCompilersOptions;
  private timer: NodeJS.Timeout | null = null;
  /** Where the current window started: its time (performance.now()) and the bytes read then. */
  private windowStart = 0;
  private windowStartBytes = 0;
  state: OptimizingCompilersState;

  constructor(options: OptimizingCompilersOptions) {
    this.options = options;
    this.state = options.flags.length === 0 ? "not_deferred" : "deferred";
  }

  /** Start watching the bytes read (an unref'd timer: it never keeps the process up). */
  start(now: number = performance.now()): void {
    if (this.state !== "deferred" || this.timer !== null) return;
    this.windowStart = now;
    this.windowStartBytes = this.options.bytesRead();
    this.timer = setInterval(() => this.observe(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Look at the bytes read: load turns the compilers on; a window that ran out without it starts the next one. */
  observe(now: number = performance.now()): void {
    if (this.state !== "deferred") return;
    const bytes = this.options.bytesRead();
    const window = bytes - this.windowStartBytes;
    if (window >= (this.options.loadBytes ?? LOAD_BYTES)) {
      this.stop();
      const flags = this.options.flags.join(" ");
      (this.options.setFlags ?? setFlagsFromString)(flags);
      this.state = "on";
      this.options.logger.info("load: optimizing compilers on", { flags, bytes_read_in_window: window });
      return;
    }
    if (now - this.windowStart >= this.intervalMs) {
      this.windowStart = now;
      this.windowStartBytes = bytes;
    }
  }

  private get intervalMs(): number {
    return this.options.intervalMs ?? CHECK_INTERVAL_MS;
  }
}
