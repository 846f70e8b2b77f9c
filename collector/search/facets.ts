/**
 * Field facets, `GET /v1/facets` (docs/SEARCH.md, "Facets"): the most
 * frequent values of `host`, `source`, `path` and of the common keys of
 * `fields` among a query's matches, for the web UI's sidebar (click a value
 * to filter by it).
 *
 * A sample, like Kibana's field list: the newest `eventsMax` matches of the
 * range (read newest first through search.ts's row scan, each row checked
 * by the evaluator), at most `scanRowsMax` rows read in all, so the cost of
 * a request is bounded whatever the range holds. `complete` says whether
 * every match of the range was counted; when it is false the counts are
 * those of the newest `events` matches.
 *
 * Values are counted as text: strings as they are, numbers and booleans as
 * JSON writes them (what a `field:"value"` phrase finds, docs/QUERY.md),
 * each element of an array once; nested objects are walked into dotted
 * names (`http.status`) down to FACET_DEPTH_MAX levels; objects, nulls and
 * values longer than FACET_VALUE_CHARS_MAX (parsed messages, stack traces:
 * nothing to filter by) are not counted. Memory is bounded by
 * FACET_KEYS_TRACKED_MAX names and FACET_DISTINCT_MAX distinct values per
 * name: values first seen after that are counted in `other` only.
 *
 * A cluster (cluster.ts) sums the nodes' answers (`mergeFacets`): each
 * node sent its top values only, so a value that is frequent overall but
 * not in some node's top FACET_VALUES_MAX is undercounted by that node's
 * share (counted in `other` there).
 */
import type { Event } from "../../shared/event.ts";
import { compileQuery, type Query } from "../../shared/query/index.ts";
import { candidateRows, SCAN_ROWS_MAX_DEFAULT, storedEvent } from "./search.ts";
import type { SearchIndex } from "./search-index.ts";

/** Matches counted per request at most (the newest of the range). */
export const FACET_EVENTS_MAX_DEFAULT = 10_000;
/** Values returned per field at most (the most frequent). */
export const FACET_VALUES_MAX = 10;
/** `fields` keys returned at most (those most events have), besides host, source and path. */
export const FACET_FIELDS_MAX = 20;
/** Distinct `fields` keys tracked at most; keys first seen after that are not counted. */
export const FACET_KEYS_TRACKED_MAX = 200;
/** Distinct values tracked per field at most; values first seen after that count in `other`. */
export const FACET_DISTINCT_MAX = 1000;
/** Longer values are not counted (nothing to filter by). */
export const FACET_VALUE_CHARS_MAX = 200;
/** Nested objects in `fields` are walked this deep at most. */
export const FACET_DEPTH_MAX = 3;

/** The event's own keyword fields, always first in the answer. */
const TOP_LEVEL_FACETS = ["host", "source", "path"] as const;

export interface FacetsRequest {
  tenant: string;
  query: Query;
  sinceMs?: number;
  untilMs?: number;
  /** Matches counted at most (default FACET_EVENTS_MAX_DEFAULT). */
  eventsMax?: number;
  /** Rows read at most (default SCAN_ROWS_MAX_DEFAULT). */
  scanRowsMax?: number;
}

export interface FacetValue {
  value: string;
  count: number;
}

export interface Facet {
  /** As a query names it: `host`, `source`, `path`, `fields.<key>`. */
  field: string;
  /** Matches that have the field with a countable value. */
  events: number;
  /** The most frequent values, most frequent first (ties: value order). */
  values: FacetValue[];
  /** Counted values not in `values`. */
  other: number;
}

export interface FacetsResult {
  /** Matches counted. */
  events: number;
  /** Every match of the range was counted. */
  complete: boolean;
  facets: Facet[];
}

/** Counts of one field's values, bounded by FACET_DISTINCT_MAX. */
class ValueCounts {
  readonly counts = new Map<string, number>();
  events = 0;
  overflow = 0;

  add(value: string): void {
    const count = this.counts.get(value);
    if (count !== undefined) this.counts.set(value, count + 1);
    else if (this.counts.size < FACET_DISTINCT_MAX) this.counts.set(value, 1);
    else this.overflow++;
  }

  facet(field: string): Facet {
    const sorted = [...this.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const values = sorted.slice(0, FACET_VALUES_MAX).map(([value, count]) => ({ value, count }));
    const other = sorted.slice(FACET_VALUES_MAX).reduce((sum, [, count]) => sum + count, this.overflow);
    return { field, events: this.events, values, other };
  }
}

/**
 * The facets of the matches given one by one (newest first), for any
 * backend: facetsIndex below, OpenSearch's (opensearch/backend.ts).
 */
export class FacetCounter {
  private readonly topLevel = new Map<string, ValueCounts>(TOP_LEVEL_FACETS.map((field) => [field, new ValueCounts()]));
  private readonly keyed = new Map<string, ValueCounts>();
  events = 0;

  add(event: Event): void {
    this.events++;
    countEvent(event, this.topLevel, this.keyed);
  }

  result(complete: boolean): FacetsResult {
    const fields = [...this.keyed].sort((a, b) => b[1].events - a[1].events || (a[0] < b[0] ? -1 : 1)).slice(0, FACET_FIELDS_MAX);
    return {
      events: this.events,
      complete,
      facets: [...[...this.topLevel].map(([field, counts]) => counts.facet(field)), ...fields.map(([key, counts]) => counts.facet(`fields.${key}`))],
    };
  }
}

/** The request's `eventsMax`, checked (default FACET_EVENTS_MAX_DEFAULT). */
export function facetEventsMax(request: FacetsRequest): number {
  const eventsMax = request.eventsMax ?? FACET_EVENTS_MAX_DEFAULT;
  if (!Number.isSafeInteger(eventsMax) || eventsMax < 1) throw new RangeError(`eventsMax must be a positive integer; got ${eventsMax}`);
  return eventsMax;
}

export function facetsIndex(index: SearchIndex, request: FacetsRequest): FacetsResult {
  const eventsMax = facetEventsMax(request);
  const scanRowsMax = request.scanRowsMax ?? SCAN_ROWS_MAX_DEFAULT;
  const predicate = compileQuery(request.query);
  const scan = { tenant: request.tenant, query: request.query, order: "desc" as const, matchesOnly: true, ...rangeOf(request) };
  const counter = new FacetCounter();
  let rowsRead = 0;
  let complete = true;
  for (const row of candidateRows(index, scan, scanRowsMax)) {
    rowsRead++;
    const event = storedEvent(row);
    if (!predicate(event)) continue;
    counter.add(event);
    if (counter.events === eventsMax) {
      complete = false;
      break;
    }
  }
  if (rowsRead === scanRowsMax) complete = false;
  return counter.result(complete);
}

function rangeOf(request: FacetsRequest): { sinceMs?: number; untilMs?: number } {
  return { ...(request.sinceMs === undefined ? {} : { sinceMs: request.sinceMs }), ...(request.untilMs === undefined ? {} : { untilMs: request.untilMs }) };
}

function countEvent(event: Event, topLevel: Map<string, ValueCounts>, keyed: Map<string, ValueCounts>): void {
  for (const field of TOP_LEVEL_FACETS) {
    const counts = topLevel.get(field) as ValueCounts;
    const value = event[field];
    if (value.length > FACET_VALUE_CHARS_MAX) continue;
    counts.events++;
    counts.add(value);
  }
  walkFields(event.fields, "", 1, keyed);
}

/** Counts the countable values under `object`, keys prefixed by `prefix`. */
function walkFields(object: Record<string, unknown>, prefix: string, depth: number, keyed: Map<string, ValueCounts>): void {
  for (const [key, value] of Object.entries(object)) {
    const name = prefix + key;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      if (depth < FACET_DEPTH_MAX) walkFields(value as Record<string, unknown>, `${name}.`, depth + 1, keyed);
      continue;
    }
    const texts = (Array.isArray(value) ? value : [value]).map(valueText).filter((text): text is string => text !== undefined);
    if (texts.length === 0) continue;
    let counts = keyed.get(name);
    if (counts === undefined) {
      if (keyed.size >= FACET_KEYS_TRACKED_MAX) continue;
      counts = new ValueCounts();
      keyed.set(name, counts);
    }
    counts.events++;
    for (const text of new Set(texts)) counts.add(text);
  }
}

/** A scalar as text (strings as they are, numbers and booleans as JSON writes them); undefined for what is not counted. */
function valueText(value: unknown): string | undefined {
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "number" || typeof value === "boolean") text = JSON.stringify(value);
  else return undefined;
  return text.length > FACET_VALUE_CHARS_MAX ? undefined : text;
}

/** The facets of several collectors' answers as one: counts summed per field and value, cut again to the top ones. */
export function mergeFacets(results: readonly FacetsResult[]): FacetsResult {
  const merged = new Map<string, { events: number; other: number; counts: Map<string, number> }>();
  for (const result of results) {
    for (const facet of result.facets) {
      let entry = merged.get(facet.field);
      if (entry === undefined) {
        entry = { events: 0, other: 0, counts: new Map() };
        merged.set(facet.field, entry);
      }
      entry.events += facet.events;
      entry.other += facet.other;
      for (const { value, count } of facet.values) entry.counts.set(value, (entry.counts.get(value) ?? 0) + count);
    }
  }
  const facets: Facet[] = [];
  for (const [field, entry] of merged) {
    const sorted = [...entry.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const other = sorted.slice(FACET_VALUES_MAX).reduce((sum, [, count]) => sum + count, entry.other);
    facets.push({ field, events: entry.events, values: sorted.slice(0, FACET_VALUES_MAX).map(([value, count]) => ({ value, count })), other });
  }
  const isTopLevel = (field: string): boolean => (TOP_LEVEL_FACETS as readonly string[]).includes(field);
  const topLevel = TOP_LEVEL_FACETS.map((field) => facets.find((facet) => facet.field === field) ?? { field, events: 0, values: [], other: 0 });
  const keyed = facets.filter((facet) => !isTopLevel(facet.field)).sort((a, b) => b.events - a.events || (a.field < b.field ? -1 : 1));
  return {
    events: results.reduce((sum, result) => sum + result.events, 0),
    complete: results.every((result) => result.complete),
    facets: [...topLevel, ...keyed.slice(0, FACET_FIELDS_MAX)],
  };
}
