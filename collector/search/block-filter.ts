/**
 * What a query says about whole blocks of a version 4 partition
 * (block-partition.ts), before any event of them is decoded: a superset,
 * like translate.ts's SQL for versions 2 and 3, and the evaluator
 * (compileQuery) decides every event of the blocks it keeps.
 *
 * - `match`: an FTS5 expression over a block's distinct tokens, or
 *   undefined when the query requires no token. A message term, phrase,
 *   prefix or wildcard requires each of its tokens FTS5 can look for
 *   (translate.ts `ftsToken`); a block holds every token of every event in
 *   it, so a phrase becomes the AND of its tokens (a block has no
 *   positions). AND keeps what its clauses require, OR only when every
 *   clause requires something, NOT nothing.
 * - `stream`: whether any event of a stream (id stream, host, source, path,
 *   stream) may match, from the clauses on those four keyword fields,
 *   which are exact on the stream's values; every other clause is
 *   "unknown" (three-valued logic: an unknown under NOT stays unknown).
 * - `event`, asked for with `matchesOnly`: for a query whose SQL is exact
 *   in versions 2 and 3 (translate.ts `exactTranslation`: SQLite returns
 *   exactly its matches), the evaluator, so that a version 4 partition too
 *   returns only matches and a read budget (`scanRowsMax`) cuts at the same
 *   event whatever the format; for any other query, undefined (the
 *   events of the kept blocks, a superset, as SQL's is).
 */
import { compileQuery, MESSAGE_FIELD, messageGlob, tokenizeGlob, type EventPredicate, type Query } from "../../shared/query/index.ts";
import type { Event } from "../../shared/event.ts";
import { ftsSeesToken } from "./fts-probe.ts";
import { exactTranslation, ftsTerm, ftsToken } from "./translate.ts";

/** The columns a block's stream shares with each of its events. */
export interface StreamValues {
  host: string;
  source: string;
  path: string;
  stream: string;
}

export interface BlockFilter {
  match: string | undefined;
  /** `match` for a block held in memory, on its distinct tokens (undefined: no token is required). */
  tokens: ((tokens: ReadonlySet<string>) => boolean) | undefined;
  stream: (values: StreamValues) => boolean;
  event: EventPredicate | undefined;
}

const STREAM_COLUMNS: ReadonlySet<string> = new Set(["host", "source", "path", "stream"]);

export function blockFilter(query: Query, matchesOnly: boolean): BlockFilter {
  const test = streamTest(query);
  const event = matchesOnly && exactTranslation(query, "sources") !== undefined ? compileQuery(query) : undefined;
  return { match: ftsExpression(query), tokens: tokenTest(query), stream: (values) => test(values) !== false, event };
}

function ftsExpression(query: Query): string | undefined {
  switch (query.kind) {
    case "all":
    case "not":
      return undefined;
    case "and": {
      const parts = query.clauses.map(ftsExpression).filter((part): part is string => part !== undefined);
      return parts.length === 0 ? undefined : parts.map((part) => `(${part})`).join(" AND ");
    }
    case "or": {
      const parts = query.clauses.map(ftsExpression);
      return parts.some((part) => part === undefined) ? undefined : parts.map((part) => `(${part})`).join(" OR ");
    }
    default: {
      if (query.field !== MESSAGE_FIELD || query.kind === "regex" || query.kind === "range" || query.kind === "exists") return undefined;
      const terms = tokenizeGlob(messageGlob(query))
        .map(ftsToken)
        .filter((token) => token !== undefined && ftsSeesToken(token.text))
        .map((token) => ftsTerm(token as NonNullable<typeof token>));
      return terms.length === 0 ? undefined : terms.join(" AND ");
    }
  }
}

type TokenTest = (tokens: ReadonlySet<string>) => boolean;

/** What ftsExpression requires, as a test of a block's set of tokens (`tokenize`'s, lower case like the query's). */
function tokenTest(query: Query): TokenTest | undefined {
  switch (query.kind) {
    case "all":
    case "not":
      return undefined;
    case "and": {
      const tests = query.clauses.map(tokenTest).filter((test): test is TokenTest => test !== undefined);
      return tests.length === 0 ? undefined : (tokens) => tests.every((test) => test(tokens));
    }
    case "or": {
      const tests = query.clauses.map(tokenTest);
      if (tests.some((test) => test === undefined)) return undefined;
      return (tokens) => tests.some((test) => (test as TokenTest)(tokens));
    }
    default: {
      if (query.field !== MESSAGE_FIELD || query.kind === "regex" || query.kind === "range" || query.kind === "exists") return undefined;
      const wanted = tokenizeGlob(messageGlob(query))
        .map(ftsToken)
        .filter((token) => token !== undefined) as NonNullable<ReturnType<typeof ftsToken>>[];
      if (wanted.length === 0) return undefined;
      return (tokens) =>
        wanted.every((token) => {
          const text = token.text.toLowerCase();
          if (!token.prefix) return tokens.has(text);
          for (const candidate of tokens) if (candidate.startsWith(text)) return true;
          return false;
        });
    }
  }
}

/** true / false when the stream's values decide the query, undefined when they do not; compiled once per query. */
type StreamTest = (values: StreamValues) => boolean | undefined;

function streamTest(query: Query): StreamTest {
  switch (query.kind) {
    case "all":
      return () => true;
    case "and": {
      const tests = query.clauses.map(streamTest);
      return (values) => {
        let result: boolean | undefined = true;
        for (const test of tests) {
          const value = test(values);
          if (value === false) return false;
          if (value === undefined) result = undefined;
        }
        return result;
      };
    }
    case "or": {
      const tests = query.clauses.map(streamTest);
      return (values) => {
        let result: boolean | undefined = false;
        for (const test of tests) {
          const value = test(values);
          if (value === true) return true;
          if (value === undefined) result = undefined;
        }
        return result;
      };
    }
    case "not": {
      const test = streamTest(query.clause);
      return (values) => {
        const value = test(values);
        return value === undefined ? undefined : !value;
      };
    }
    default: {
      if (!STREAM_COLUMNS.has(query.field)) return () => undefined;
      const predicate = compileQuery(query);
      return (values) => predicate(streamEvent(values));
    }
  }
}

/** An event with the stream's values and nothing else (the keyword clauses read only those). */
function streamEvent(values: StreamValues): Event {
  const event: Event = { id: "", time: "", observed_time: "", host: values.host, source: values.source, path: values.path, offset: 0, message: "", fields: {} };
  event.stream = values.stream;
  return event;
}
