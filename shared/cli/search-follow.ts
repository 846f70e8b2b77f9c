/**
 * `logship search QUERY --follow` (docs/SEARCH.md, "CLI"): prints matches
 * as the collector indexes them, like `tail -f` across every host, until
 * SIGINT or SIGTERM (then exit 0). The stream is the collector's live tail
 * (tail-client.ts), which reconnects with Last-Event-ID after any break, a
 * collector restart included, so nothing is printed twice and nothing is
 * missed.
 *
 * With `--since`, the search (`--since`, `--limit`, `--order` choose which
 * matches: by default the last 100) is printed first, oldest first, the way
 * `tail -f` prints the last lines first. The tail is opened before that
 * search runs, so an event indexed in between is in the search or in the
 * tail, never in neither; one in both is printed once (by id).
 */
import type { Event } from "../event.ts";
import { searchMatches, type PageFetcher } from "./search-pages.ts";
import type { CollectorTarget } from "./collector-api.ts";
import type { CliContext } from "./context.ts";
import { followTail, type TailItem } from "./tail-client.ts";

export interface FollowSearchOptions {
  target: CollectorTarget;
  query: string;
  tenant?: string;
  /** Print the search's matches since then first. */
  since?: string;
  limit: number;
  pageEventsMax: number;
  fetchPage: PageFetcher;
  formatEvent: (event: Event) => string;
  context: CliContext;
}

/** Follows until SIGINT or SIGTERM; throws on a refusal (bad token, bad query). */
export async function followSearch(options: FollowSearchOptions): Promise<void> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const parameters = new URLSearchParams({ q: options.query });
  if (options.tenant !== undefined) parameters.set("tenant", options.tenant);
  const items = followTail({ target: options.target, parameters, signal: controller.signal, notice: (line) => options.context.writeErr(`logship: ${line}\n`) });
  const print = (event: Event): void => options.context.writeOut(`${options.formatEvent(event)}\n`);
  try {
    let printedFirst = new Set<string>();
    if (options.since !== undefined) {
      // The tail starts (its first message is its start position) before the search runs.
      const first = await items.next();
      if (first.done === true) return;
      const backlog = await searchBacklog(options);
      for (const event of backlog) print(event);
      printedFirst = new Set(backlog.map((event) => event.id));
      printItem(first.value, printedFirst, print);
    }
    for await (const item of items) printItem(item, printedFirst, print);
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await items.return(undefined);
  }
}

function printItem(item: TailItem, printedFirst: ReadonlySet<string>, print: (event: Event) => void): void {
  if (item.kind === "event" && !printedFirst.has(item.event.id)) print(item.event);
}

/** The search's matches (up to --limit), oldest first. */
async function searchBacklog(options: FollowSearchOptions): Promise<Event[]> {
  const events = await searchMatches(options.fetchPage, options.pageEventsMax, options.limit);
  return events.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
