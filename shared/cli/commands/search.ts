/**
 * `logship search QUERY [--since T] [--until T] [--limit N] [--order desc|asc]
 *  [--output text|json|ndjson] [--count] [--follow] [--context N] [--tenant T]
 *  [--config F | --server URL…] [--token T]`: events of a collector's
 * embedded index through `GET /v1/search` (docs/SEARCH.md, "CLI"); of the
 * whole cluster when that collector has `peers`. Several `--server`s are
 * tried in turn, the next when one does not answer (server-fallback.ts);
 * an answer some peers are missing from is printed with a warning on
 * stderr naming them. `--follow` goes on with `GET /v1/tail`
 * (search-follow.ts), `--context` adds the lines around each match from
 * `GET /v1/context` (search-context.ts).
 *
 * The query is parsed here first, so a broken one exits 2 with a caret
 * under its column before anything is asked. Pages of up to 10,000 events
 * are fetched with the cursor until `--limit` events are printed or the
 * range is exhausted; `--count` pages through every match and prints their
 * number. Exit 0 with matches, 1 with none (like grep), 2 on any error
 * (usage, a broken query, a refusal, a collector that does not answer).
 */
import { Command, InvalidArgumentError, Option } from "commander";
import type { Event } from "../../event.ts";
import { ConfigError } from "../../errors.ts";
import { EXIT_OK, EXIT_RUNTIME_FAILURE, type CliContext } from "../context.ts";
import type { PageFetcher, SearchPage } from "../search-pages.ts";

interface SearchOptions {
  since?: string;
  until?: string;
  limit: number;
  order: "desc" | "asc";
  output: "text" | "json" | "ndjson";
  count?: boolean;
  follow?: boolean;
  context?: number;
  tenant?: string;
  config?: string;
  /** Every `--server`, in order. */
  server?: string[];
  token?: string;
}

const SERVER_DEFAULT = "http://127.0.0.1:7170";
/** grep's convention: 1 when nothing matched (the code a runtime failure has elsewhere; here failures exit 2). */
const EXIT_NO_MATCH = EXIT_RUNTIME_FAILURE;
const LIMIT_DEFAULT = 100;
/** collector/search/params.ts CONTEXT_LINES_MAX (not imported: this module is loaded by every command). */
const CONTEXT_LINES_MAX = 100;
/** One page is one bounded scan of the index (SQLite reads at most 200,000 rows per request). */
const PAGE_TIMEOUT_MS = 60_000;

const COLOUR = { time: "\x1b[2m", host: "\x1b[36m", source: "\x1b[33m", reset: "\x1b[0m" };

export function searchCommand(context: CliContext): Command {
  return new Command("search")
    .description("search a collector's events (query language: docs/QUERY.md); exit 0 with matches, 1 with none, 2 on errors")
    .argument("<query>", 'e.g. \'level:error "connection reset" -host:web-1\'; "" matches every event')
    .option("--since <time>", "RFC 3339 time, date, or duration ago (15m, 2h, 7d); default: no lower bound")
    .option("--until <time>", "same forms; events before it; default: no upper bound")
    .option("--limit <n>", "events to print at most", parseLimit, LIMIT_DEFAULT)
    .addOption(new Option("--order <order>", "newest first or oldest first").choices(["desc", "asc"]).default("desc"))
    .addOption(new Option("--output <format>", "text: time host source message (colour on a terminal); json: one object; ndjson: one event per line").choices(["text", "json", "ndjson"]).default("text"))
    .option("--count", "print only the number of matching events (every page is read)")
    .option("-f, --follow", "print matches as they are indexed, until Ctrl-C (with --since: the last --limit matches first); survives collector restarts")
    .option("-C, --context <n>", "print n lines before and after each match from its file, like grep -C (text or ndjson)", parseContextLines)
    .option("--tenant <tenant>", "tenant to search (admin tokens; default: the token's own)")
    .option("-c, --config <file>", "the collector's config: its listen address and its first search (else admin) token")
    .option("--server <url>", `collector address (default: $LOGSHIP_SERVER, else ${SERVER_DEFAULT}); repeat it to name more collectors of the cluster, each asked when the one before does not answer`, (url: string, previous: string[] | undefined) => [...(previous ?? []), url])
    .option("--token <token>", "token with role search or admin (default: $LOGSHIP_TOKEN, else from --config)")
    .action(async (query: string, options: SearchOptions) => {
      // Imported here: the agent's process loads every command module and needs neither.
      const { parseQuery } = await import("../../query/index.ts");
      const { SEARCH_LIMIT_MAX } = await import("../../../collector/search/params.ts");
      parseQuery(query);
      checkCombinations(options);
      const api = await import("../collector-api.ts");
      const { ServerFallback } = await import("../server-fallback.ts");
      const { server: servers = [], ...flags } = options;
      const [firstServer, ...moreServers] = servers;
      const target = await api.resolveTarget(firstServer === undefined ? flags : { ...flags, server: firstServer }, ["search", "admin"], context.env, context.env["LOGSHIP_SERVER"] || SERVER_DEFAULT);
      const fallback = new ServerFallback([target, ...moreServers.map((url) => ({ url: api.serverUrl(url), token: target.token }))], api.collectorRequest, (message) => context.writeErr(`logship: warning: ${message}\n`));
      const warnedPeers = new Set<string>();
      const fetchPage = async (limit: number, cursor: string | null): Promise<SearchPage> => {
        const parameters = new URLSearchParams({ q: query, order: options.order, limit: String(limit) });
        if (options.since !== undefined) parameters.set("since", options.since);
        if (options.until !== undefined) parameters.set("until", options.until);
        if (options.tenant !== undefined) parameters.set("tenant", options.tenant);
        if (cursor !== null) parameters.set("cursor", cursor);
        const { target: answered, answer } = await fallback.get(`/v1/search?${parameters}`, PAGE_TIMEOUT_MS);
        if (answer.status !== 200) throw api.refusal(answered, answer);
        const page = JSON.parse(answer.body) as SearchPage;
        for (const failure of page.peers_failed ?? []) {
          if (warnedPeers.has(failure.peer)) continue;
          warnedPeers.add(failure.peer);
          context.writeErr(`logship: warning: partial answer from ${answered.url}: peer ${failure.peer} is missing (${failure.reason})\n`);
        }
        return page;
      };
      const colour = context.stdoutIsTerminal === true && (context.env["NO_COLOR"] ?? "") === "";
      const formatEvent = (event: Event, mark = ""): string => (options.output === "ndjson" ? JSON.stringify(event) : textLine(event, colour, mark));
      let found: number;
      try {
        if (options.follow === true) {
          const { followSearch } = await import("../search-follow.ts");
          await followSearch({ target, query, ...pick(options, "tenant", "since"), limit: options.limit, pageEventsMax: SEARCH_LIMIT_MAX, fetchPage, formatEvent, context });
          // Stopped by SIGINT/SIGTERM: that is how a follow ends well.
          found = 1;
        } else if (options.context !== undefined) {
          const { printWithContext } = await import("../search-context.ts");
          found = await printWithContext({ target, lines: options.context, output: options.output === "ndjson" ? "ndjson" : "text", limit: options.limit, pageEventsMax: SEARCH_LIMIT_MAX, fetchPage, formatEvent, context, ...pick(options, "tenant") });
        } else found = options.count === true ? await printCount(fetchPage, SEARCH_LIMIT_MAX, context) : await printEvents(fetchPage, SEARCH_LIMIT_MAX, options, formatEvent, context);
      } catch (error) {
        // Like grep, exit 1 means "no match" only: every failure (no answer, a collector error) exits 2.
        if (error instanceof ConfigError || !(error instanceof Error)) throw error;
        throw new ConfigError(error.message, { cause: error });
      }
      context.exitCode = found > 0 ? EXIT_OK : EXIT_NO_MATCH;
    });
}

/** --follow and --context print events (text or ndjson), a stream or groups; what they cannot be combined with is a usage error. */
function checkCombinations(options: SearchOptions): void {
  const refuse = (message: string): never => {
    throw new ConfigError(message);
  };
  if (options.follow === true) {
    if (options.output === "json") refuse("--follow prints events as they come: use --output text or ndjson (json is one object at the end, and a follow has no end)");
    if (options.count === true) refuse("--follow cannot be combined with --count");
    if (options.until !== undefined) refuse("--follow prints events as they are indexed; --until cannot bound that");
    if (options.context !== undefined) refuse("--follow cannot be combined with --context");
  }
  if (options.context !== undefined) {
    if (options.output === "json") refuse("--context prints text or ndjson (one object per match with its lines before and after)");
    if (options.count === true) refuse("--context cannot be combined with --count");
  }
}

/** The named options that are set, for optional properties. */
function pick<Key extends keyof SearchOptions>(options: SearchOptions, ...keys: Key[]): { [K in Key]?: NonNullable<SearchOptions[K]> } {
  const picked: { [K in Key]?: NonNullable<SearchOptions[K]> } = {};
  for (const key of keys) if (options[key] !== undefined) picked[key] = options[key] as NonNullable<SearchOptions[Key]>;
  return picked;
}

/** Reads every page (of `pageEventsMax`); prints and returns the number of events. */
async function printCount(fetchPage: PageFetcher, pageEventsMax: number, context: CliContext): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page = await fetchPage(pageEventsMax, cursor);
    count += page.events.length;
    cursor = page.cursor;
  } while (cursor !== null);
  context.writeOut(`${count}\n`);
  return count;
}

/** Prints up to `--limit` events, page by page (json: one object at the end); returns how many. */
async function printEvents(fetchPage: PageFetcher, pageEventsMax: number, options: SearchOptions, formatEvent: (event: Event) => string, context: CliContext): Promise<number> {
  const collected: Event[] = [];
  let printed = 0;
  let cursor: string | null = null;
  let partial = false;
  do {
    const page = await fetchPage(Math.min(pageEventsMax, options.limit - printed), cursor);
    cursor = page.cursor;
    partial ||= page.partial;
    printed += page.events.length;
    if (options.output === "json") collected.push(...page.events);
    else if (page.events.length > 0) context.writeOut(page.events.map((event) => formatEvent(event)).join("\n") + "\n");
  } while (cursor !== null && printed < options.limit);
  if (options.output === "json") context.writeOut(`${JSON.stringify({ events: collected, cursor, partial })}\n`);
  return printed;
}

/** `time host source message`, the first three coloured on a terminal; `mark` (--context: `:` a match, `-` a line around it) follows the source. */
function textLine(event: Event, colour: boolean, mark: string): string {
  if (!colour) return `${event.time} ${event.host} ${event.source}${mark} ${event.message}`;
  return `${COLOUR.time}${event.time}${COLOUR.reset} ${COLOUR.host}${event.host}${COLOUR.reset} ${COLOUR.source}${event.source}${COLOUR.reset}${mark} ${event.message}`;
}

/** Lines on each side of a match, as `GET /v1/context` takes them. */
function parseContextLines(text: string): number {
  const lines = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(lines >= 0 && lines <= CONTEXT_LINES_MAX)) throw new InvalidArgumentError(`expected a whole number from 0 to ${CONTEXT_LINES_MAX}`);
  return lines;
}

function parseLimit(text: string): number {
  const limit = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidArgumentError("expected a whole number ≥ 1");
  return limit;
}
