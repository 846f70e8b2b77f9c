/**
 * `logship search --server A --server B …`: several addresses of one
 * cluster, tried in turn (docs/SEARCH.md, "Cluster search"). The CLI does
 * not merge answers itself: a collector with `peers` already answers for
 * the whole cluster, so asking one is enough, and a second address is
 * there for when the first does not answer.
 *
 * A request goes to the collector that answered last (the first one to
 * begin with); when that one does not answer at all, or answers 5xx (a
 * stopping collector, a proxy without a backend), the next is asked, each
 * at most once per request. A 4xx answer is the collector's verdict on the
 * request (bad token, bad parameter) and is returned as it is: another
 * collector of the same cluster would give the same one. Cursors are
 * positions every collector resumes from, so a fallback between two pages
 * neither repeats nor skips an event.
 */
import { LogshipError } from "../errors.ts";
import type { CollectorAnswer, CollectorTarget } from "./collector-api.ts";

export type CollectorRequest = (target: CollectorTarget, method: "GET", path: string, timeoutMs: number) => Promise<CollectorAnswer>;

export interface FallbackAnswer {
  target: CollectorTarget;
  answer: CollectorAnswer;
}

export class ServerFallback {
  readonly targets: readonly CollectorTarget[];
  readonly #request: CollectorRequest;
  /** Called once per collector given up on, with why (the CLI prints it on stderr). */
  readonly #warn: (message: string) => void;
  #current = 0;

  constructor(targets: readonly CollectorTarget[], request: CollectorRequest, warn: (message: string) => void) {
    if (targets.length === 0) throw new RangeError("at least one collector is needed");
    this.targets = targets;
    this.#request = request;
    this.#warn = warn;
  }

  /**
   * `GET path` from the current collector, else the next ones. When none
   * answered below 500: the last 5xx answer if there was one (its reason is
   * the collector's), else LOGSHIP_UNREACHABLE naming every collector's
   * failure.
   */
  async get(path: string, timeoutMs: number): Promise<FallbackAnswer> {
    const reasons: string[] = [];
    let lastAnswer: FallbackAnswer | undefined;
    let lastError: LogshipError | undefined;
    for (let attempt = 0; attempt < this.targets.length; attempt++) {
      const index = (this.#current + attempt) % this.targets.length;
      const target = this.targets[index] as CollectorTarget;
      try {
        const answer = await this.#request(target, "GET", path, timeoutMs);
        if (answer.status < 500) {
          this.#current = index;
          return { target, answer };
        }
        lastAnswer = { target, answer };
        reasons.push(`${target.url} answered ${answer.status}`);
      } catch (error) {
        if (!(error instanceof LogshipError) || error.code !== "LOGSHIP_UNREACHABLE") throw error;
        lastError = error;
        reasons.push(error.message);
      }
      if (attempt + 1 < this.targets.length) this.#warn(`${reasons.at(-1) as string}; asking ${(this.targets[(index + 1) % this.targets.length] as CollectorTarget).url}`);
    }
    if (lastAnswer !== undefined) return lastAnswer;
    if (this.targets.length === 1 && lastError !== undefined) throw lastError;
    throw new LogshipError("LOGSHIP_UNREACHABLE", `no collector answered: ${reasons.join("; ")}`, { cause: lastError });
  }
}
