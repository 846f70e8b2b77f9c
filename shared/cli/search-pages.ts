/**
 * Pages of `GET /v1/search` as the search command reads them: the page
 * shape, how a page is fetched, and the loop that gathers up to `limit`
 * matches through the cursor (used by --follow's backlog and --context).
 */
import type { Event } from "../event.ts";

export interface SearchPage {
  events: Event[];
  cursor: string | null;
  partial: boolean;
  /** With partial: the peers the answer is missing (docs/SEARCH.md, "Cluster search"). */
  peers_failed?: { peer: string; code: string; reason: string }[];
}

export type PageFetcher = (limit: number, cursor: string | null) => Promise<SearchPage>;

/** Up to `limit` matches in the search's order, in pages of at most `pageEventsMax`. */
export async function searchMatches(fetchPage: PageFetcher, pageEventsMax: number, limit: number): Promise<Event[]> {
  const events: Event[] = [];
  let cursor: string | null = null;
  do {
    const page = await fetchPage(Math.min(pageEventsMax, limit - events.length), cursor);
    events.push(...page.events);
    cursor = page.cursor;
  } while (cursor !== null && events.length < limit);
  return events;
}
