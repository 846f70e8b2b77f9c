/**
 * What a search is, as the URL holds it so that it can be shared as a
 * link: the query and the time range, never the token (that stays in the
 * session, session.ts).
 *
 *   /?q=level%3Aerror&range=1h                     the last hour (relative: "now" is when it runs)
 *   /?q=timeout&since=2026-11-29T10:00:00.000Z&until=2026-11-29T11:00:00.000Z
 *
 * Relative ranges are sent to the collector as durations (`since=1h`), so
 * "now" is the collector's clock and a browser whose clock is off still
 * sees the newest events. Pure: main.ts reads and writes `location`.
 */

/** The relative ranges the picker offers, shortest first. */
export const RELATIVE_RANGES = ["15m", "1h", "4h", "24h", "7d", "30d"] as const;
export type RelativeRange = (typeof RELATIVE_RANGES)[number];
export const DEFAULT_RANGE: RelativeRange = "24h";

export type TimeRange = { kind: "relative"; span: RelativeRange } | { kind: "absolute"; sinceMs: number; untilMs: number };

export interface SearchState {
  query: string;
  range: TimeRange;
}

const SPAN_MS: Record<RelativeRange, number> = { "15m": 15 * 60_000, "1h": 3_600_000, "4h": 4 * 3_600_000, "24h": 24 * 3_600_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000 };

/** The state a URL's query string holds; what it lacks or gets wrong falls back to the defaults. */
export function stateFromUrl(search: string): SearchState {
  const parameters = new URLSearchParams(search);
  const query = parameters.get("q") ?? "";
  const sinceMs = Date.parse(parameters.get("since") ?? "");
  const untilMs = Date.parse(parameters.get("until") ?? "");
  if (Number.isFinite(sinceMs) && Number.isFinite(untilMs) && sinceMs < untilMs) return { query, range: { kind: "absolute", sinceMs, untilMs } };
  const span = parameters.get("range");
  return { query, range: { kind: "relative", span: isRelativeRange(span) ? span : DEFAULT_RANGE } };
}

/** The query string (with `?`) of a state. */
export function urlOf(state: SearchState): string {
  const parameters = new URLSearchParams({ q: state.query });
  if (state.range.kind === "relative") parameters.set("range", state.range.span);
  else {
    parameters.set("since", new Date(state.range.sinceMs).toISOString());
    parameters.set("until", new Date(state.range.untilMs).toISOString());
  }
  return `?${parameters}`;
}

export function isRelativeRange(text: string | null): text is RelativeRange {
  return (RELATIVE_RANGES as readonly (string | null)[]).includes(text);
}

/** The `since` and `until` parameters of the API for a range. */
export function rangeParameters(range: TimeRange): { since: string; until?: string } {
  if (range.kind === "relative") return { since: range.span };
  return { since: new Date(range.sinceMs).toISOString(), until: new Date(range.untilMs).toISOString() };
}

/** The range as instants, "now" being `nowMs` for a relative one (for drawing and zooming). */
export function rangeBounds(range: TimeRange, nowMs: number): { sinceMs: number; untilMs: number } {
  if (range.kind === "absolute") return { sinceMs: range.sinceMs, untilMs: range.untilMs };
  return { sinceMs: nowMs - SPAN_MS[range.span], untilMs: nowMs };
}

/** How the range reads in the summary line. */
export function describeRange(range: TimeRange): string {
  if (range.kind === "relative") return `last ${range.span}`;
  return `${formatTime(range.sinceMs)} → ${formatTime(range.untilMs)}`;
}

/** `2026-11-29 10:00:00.123` (UTC), how the page shows times. */
export function formatTime(timeMs: number): string {
  return new Date(timeMs).toISOString().replace("T", " ").replace("Z", "");
}
