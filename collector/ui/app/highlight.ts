/**
 * Which parts of a message to highlight for a query: the message clauses
 * that make an event match (terms, phrases, prefixes, wildcards, regexes
 * not under a NOT), found the way the evaluator finds them (docs/QUERY.md,
 * "Tokens"): a token of the message is marked when it equals a query token,
 * starts with a prefix, or matches a wildcard; a regex marks its matches.
 * A phrase marks each of its tokens wherever they occur (close enough for
 * the eye, and cheap). Pure: the page turns the segments into elements.
 */
import type { Query } from "../../../shared/query/ast.ts";
import { ANY_RUN, globMatches, literalGlob, parseGlob, type Glob } from "../../../shared/query/glob.ts";
import { compileQueryRegex } from "../../../shared/query/regex.ts";
import { tokenizeGlob } from "../../../shared/query/tokenize.ts";

/** A piece of a message, highlighted or not; the pieces in order are the message. */
export interface Segment {
  text: string;
  hit: boolean;
}

/** Regex matches marked per message at most (a regex like /./ would mark every character). */
export const REGEX_HITS_MAX = 200;

const TOKEN = /[\p{L}\p{M}\p{N}\p{Co}]+/gu;

export type Highlighter = (message: string) => Segment[];

/** The highlighter of a parsed query (none of its clauses on message: nothing is marked). */
export function highlighter(query: Query): Highlighter {
  const globs: Glob[] = [];
  const regexes: RegExp[] = [];
  collect(query, false, globs, regexes);
  if (globs.length === 0 && regexes.length === 0) return (message) => [{ text: message, hit: false }];
  return (message) => segments(message, hitRanges(message, globs, regexes));
}

/** The positive clauses on message, as token patterns and regexes. */
function collect(query: Query, negated: boolean, globs: Glob[], regexes: RegExp[]): void {
  switch (query.kind) {
    case "and":
    case "or":
      for (const clause of query.clauses) collect(clause, negated, globs, regexes);
      return;
    case "not":
      collect(query.clause, !negated, globs, regexes);
      return;
    case "term":
    case "phrase":
    case "prefix":
    case "wildcard": {
      if (negated || query.field !== "message") return;
      const glob = query.kind === "wildcard" ? parseGlob(query.pattern) : [...literalGlob(query.value), ...(query.kind === "prefix" ? [ANY_RUN] : [])];
      globs.push(...tokenizeGlob(glob));
      return;
    }
    case "regex": {
      if (negated || query.field !== "message") return;
      const compiled = compileQueryRegex(query.pattern);
      if (compiled instanceof RegExp) regexes.push(new RegExp(compiled.source, "gu"));
      return;
    }
    default:
      return;
  }
}

/** [start, end) UTF-16 ranges to mark, from tokens and regexes. */
function hitRanges(message: string, globs: readonly Glob[], regexes: readonly RegExp[]): [number, number][] {
  const ranges: [number, number][] = [];
  if (globs.length > 0) {
    for (const match of message.matchAll(TOKEN)) {
      const token = match[0].toLowerCase();
      if (globs.some((glob) => globMatches(glob, token))) ranges.push([match.index, match.index + match[0].length]);
    }
  }
  for (const regex of regexes) {
    let hits = 0;
    for (const match of message.matchAll(regex)) {
      if (match[0].length === 0) continue;
      ranges.push([match.index, match.index + match[0].length]);
      if (++hits === REGEX_HITS_MAX) break;
    }
  }
  return ranges;
}

/** The message cut at the ranges (merged where they overlap or touch). */
function segments(message: string, ranges: [number, number][]): Segment[] {
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [start, end] of ranges) {
    const last = merged.at(-1);
    if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  const result: Segment[] = [];
  let position = 0;
  for (const [start, end] of merged) {
    if (start > position) result.push({ text: message.slice(position, start), hit: false });
    result.push({ text: message.slice(start, end), hit: true });
    position = end;
  }
  if (position < message.length || result.length === 0) result.push({ text: message.slice(position), hit: false });
  return result;
}
