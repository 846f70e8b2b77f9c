/**
 * `logship search QUERY --context N` (docs/SEARCH.md, "CLI"): each match
 * with the N lines before and after it in its file, like `grep -C N`. The
 * matches are the search's (`--limit`, `--order`, `--since`, `--until`);
 * the lines around each come from `GET /v1/context`, one request per match.
 *
 * text: groups of lines in file order, `--` between groups, in the order
 * of their first match; after the source a match has `:` and a line around
 * it `-` (grep's marks). Groups that share a line (matches close together
 * in one file) are merged into one, and a line that is itself a match is
 * marked as one wherever it appears. Text is printed once every context is
 * fetched (at most --limit groups of 2N+1 lines).
 * ndjson: one object per match, `{"event", "before", "after"}` (the
 * route's answer), never merged.
 */
import type { Event } from "../event.ts";
import { searchMatches, type PageFetcher } from "./search-pages.ts";
import { collectorRequest, refusal, type CollectorTarget } from "./collector-api.ts";
import type { CliContext } from "./context.ts";

/** A context request reads a few small ranges of the index. */
const CONTEXT_TIMEOUT_MS = 60_000;

export interface ContextOptions {
  target: CollectorTarget;
  tenant?: string;
  /** Lines on each side. */
  lines: number;
  output: "text" | "ndjson";
  limit: number;
  pageEventsMax: number;
  fetchPage: PageFetcher;
  /** One event as a line; `mark` follows the source in text. */
  formatEvent: (event: Event, mark: string) => string;
  context: CliContext;
}

interface ContextAnswer {
  event: Event;
  before: Event[];
  after: Event[];
}

/** Prints every match with its context; returns the number of matches. */
export async function printWithContext(options: ContextOptions): Promise<number> {
  const matches = await searchMatches(options.fetchPage, options.pageEventsMax, options.limit);
  const matchIds = new Set(matches.map((event) => event.id));
  let groups: Event[][] = [];
  for (const match of matches) {
    const around = await fetchContext(options, match);
    if (options.output === "ndjson") options.context.writeOut(`${JSON.stringify(around)}\n`);
    else groups = addGroup(groups, [...around.before, around.event, ...around.after]);
  }
  if (groups.length > 0) {
    const text = groups.map((group) => group.map((event) => `${options.formatEvent(event, matchIds.has(event.id) ? ":" : "-")}\n`).join(""));
    options.context.writeOut(text.join("--\n"));
  }
  return matches.length;
}

/** `groups` with `lines` merged into every group it shares a line with (at the first one's place), or added at the end. */
function addGroup(groups: readonly Event[][], lines: readonly Event[]): Event[][] {
  const result: Event[][] = [];
  let merged: Event[] | undefined;
  for (const group of groups) {
    if (!overlaps(group, lines)) result.push(group);
    else if (merged === undefined) result.push((merged = mergeByOffset(group, lines)));
    else merged.splice(0, merged.length, ...mergeByOffset(merged, group));
  }
  if (merged === undefined) result.push([...lines]);
  return result;
}

async function fetchContext(options: ContextOptions, match: Event): Promise<ContextAnswer> {
  const parameters = new URLSearchParams({ id: match.id, before: String(options.lines), after: String(options.lines) });
  if (options.tenant !== undefined) parameters.set("tenant", options.tenant);
  const answer = await collectorRequest(options.target, "GET", `/v1/context?${parameters}`, CONTEXT_TIMEOUT_MS);
  // Gone since the search (retention dropped its day): the match alone.
  if (answer.status === 404 && errorCode(answer.body) === "LOGSHIP_EVENT_NOT_FOUND") return { event: match, before: [], after: [] };
  if (answer.status !== 200) throw refusal(options.target, answer);
  return JSON.parse(answer.body) as ContextAnswer;
}

/** The `code` of a JSON refusal; undefined for anything else (a proxy's page). */
function errorCode(body: string): unknown {
  try {
    return (JSON.parse(body) as { code?: unknown }).code;
  } catch {
    return undefined; // not JSON: not the collector's refusal
  }
}

function overlaps(group: readonly Event[], lines: readonly Event[]): boolean {
  const ids = new Set(group.map((event) => event.id));
  return lines.some((event) => ids.has(event.id));
}

/** The lines of both (one file), each once, in offset order. */
function mergeByOffset(group: readonly Event[], lines: readonly Event[]): Event[] {
  const byId = new Map<string, Event>();
  for (const event of [...group, ...lines]) byId.set(event.id, event);
  return [...byId.values()].sort((a, b) => a.offset - b.offset);
}
