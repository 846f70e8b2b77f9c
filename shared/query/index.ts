/**
 * The query language (docs/QUERY.md): parse text into an AST, print it back,
 * compile it into a predicate over events, and the tokenizer and wildcard
 * patterns the search index shares with the evaluator.
 */
export type * from "./ast.ts";
export { canonicalFieldName, DEFAULT_STREAM_NAME, FIELDS_PREFIX, MESSAGE_FIELD, STREAM_FIELD, TOP_LEVEL_FIELDS } from "./ast.ts";
export { caretLines, renderQueryError } from "./caret.ts";
export { compileQuery, matches, messageGlob } from "./compile.ts";
export type { EventPredicate, MatchableEvent, ValueQuery } from "./compile.ts";
export { parseQuery, QUERY_CHARS_MAX, QUERY_NESTING_MAX } from "./parser.ts";
export { printQuery } from "./print.ts";
export { REGEX_SOURCE_CHARS_MAX } from "./regex.ts";
export { ANY_ONE, ANY_RUN, globMatches, literalGlob, parseGlob } from "./glob.ts";
export type { Glob } from "./glob.ts";
export { tokenize, tokenizeGlob } from "./tokenize.ts";
export { QueryError } from "../errors.ts";
