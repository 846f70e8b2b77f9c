/**
 * How an event is stored in OpenSearch, shared by the sink (writes) and the
 * search backend (reads):
 *
 *   _id             the event id: a replayed or retried event is the same document
 *   tenant, id      keyword
 *   time, observed_time   date (ms), as the event's RFC 3339 text
 *   host, source, path    keyword
 *   offset          long
 *   message         text, not indexed (kept for the result)
 *   message_tokens  text, whitespace analyzer: the message's tokens from
 *                   shared/query/tokenize.ts joined by spaces, so OpenSearch
 *                   matches the same tokens as the evaluator and the embedded
 *                   index (the standard analyzer splits `db-1`, `日本語` and
 *                   keeps `top_up` differently). Indexed, left out of _source.
 *   fields          every scalar inside as keyword (strings, numbers and
 *                   booleans as JSON writes them), objects as objects
 *   truncated       boolean, only when true
 *   stream          keyword, only for an event of a named stream (docs/ROUTING.md):
 *                   a default-stream document is the same as in version 1
 *   indexed_at      date (ms): the writing collector's clock when it put the
 *                   document into a `_bulk` request (bulk.ts adds it as the
 *                   last key when the request is sent, so a retry stamps
 *                   again). Not part of the event: the live tail's positions
 *                   (search/opensearch/tail.ts), which follow every
 *                   collector's writes in one shared order.
 *
 * Version 3 of the mapping (1 had no stream, 2 no indexed_at); the index
 * template (`indexTemplateBody`) carries it in `_meta.logship_mapping_version`.
 * An index made by an older template gets the new field added to its
 * mapping (`indexMappingUpdate`), so an upgraded sink can keep writing
 * today's index; its older documents have no indexed_at.
 */
import type { Event } from "../../shared/event.ts";
import { tokenize } from "../../shared/query/index.ts";

export const MAPPING_VERSION = 3;
/** The document key of the sink's stamp (above). */
export const INDEXED_AT_FIELD = "indexed_at";
/** Keyword values longer than this are kept in _source but not indexed (Lucene refuses terms over 32 KiB). */
export const KEYWORD_CHARS_MAX = 8191;

/** What the sink writes for `event` of `tenant` (the _source). */
export function eventDocument(event: Event, tenant: string): Record<string, unknown> {
  const document: Record<string, unknown> = {
    tenant,
    id: event.id,
    time: event.time,
    observed_time: event.observed_time,
    host: event.host,
    source: event.source,
    path: event.path,
    offset: event.offset,
    message: event.message,
    message_tokens: tokenize(event.message).join(" "),
    fields: event.fields,
  };
  if (event.truncated === true) document.truncated = true;
  if (event.stream !== undefined) document.stream = event.stream;
  return document;
}

/** The event a stored document holds (the search result shape, as the embedded index returns it). */
export function documentEvent(source: Record<string, unknown>): Event {
  const event: Event = {
    id: String(source.id),
    time: String(source.time),
    observed_time: String(source.observed_time),
    host: String(source.host),
    source: String(source.source),
    path: String(source.path),
    offset: Number(source.offset),
    message: String(source.message),
    fields: (typeof source.fields === "object" && source.fields !== null ? source.fields : {}) as Record<string, unknown>,
  };
  if (source.truncated === true) event.truncated = true;
  if (typeof source.stream === "string") event.stream = source.stream;
  return event;
}

const KEYWORD = { type: "keyword" };
const DATE = { type: "date", format: "strict_date_optional_time||epoch_millis" };

/** The mapping of every logship index. */
export function indexMappings(): Record<string, unknown> {
  const fieldKeyword = { type: "keyword", ignore_above: KEYWORD_CHARS_MAX };
  return {
    _meta: { logship_mapping_version: MAPPING_VERSION },
    _source: { excludes: ["message_tokens"] },
    dynamic: "strict",
    date_detection: false,
    numeric_detection: false,
    dynamic_templates: ["string", "long", "double", "boolean"].map((type) => ({ [`fields_${type}_as_keyword`]: { path_match: "fields.*", match_mapping_type: type, mapping: fieldKeyword } })),
    properties: {
      tenant: KEYWORD,
      id: KEYWORD,
      time: DATE,
      observed_time: DATE,
      host: KEYWORD,
      source: KEYWORD,
      path: KEYWORD,
      offset: { type: "long" },
      message: { type: "text", index: false },
      message_tokens: { type: "text", analyzer: "whitespace", norms: false },
      fields: { type: "object", dynamic: true },
      truncated: { type: "boolean" },
      stream: KEYWORD,
      [INDEXED_AT_FIELD]: DATE,
    },
  };
}

/** `PUT <indices>/_mapping` body that brings an index of an older mapping version to this one (fields are only added). */
export function indexMappingUpdate(): Record<string, unknown> {
  return { _meta: { logship_mapping_version: MAPPING_VERSION }, properties: { stream: KEYWORD, [INDEXED_AT_FIELD]: DATE } };
}

export interface IndexTemplateSettings {
  shards?: number;
  replicas?: number;
}

/** `PUT _index_template/<name>` body for the indices `pattern` names. */
export function indexTemplateBody(pattern: string, settings: IndexTemplateSettings): Record<string, unknown> {
  const index: Record<string, unknown> = {};
  if (settings.shards !== undefined) index.number_of_shards = settings.shards;
  if (settings.replicas !== undefined) index.number_of_replicas = settings.replicas;
  return { index_patterns: [pattern], priority: 200, _meta: { logship_mapping_version: MAPPING_VERSION }, template: { settings: { index }, mappings: indexMappings() } };
}

/** The index template's name for a pattern: one per pattern, so collectors writing other patterns keep theirs. */
export function indexTemplateName(pattern: string): string {
  return `logship-${pattern.replace(/[^a-z0-9_.-]/g, "_")}`;
}
