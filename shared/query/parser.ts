/**
 * Recursive-descent parser: tokens (lexer.ts) into the AST (ast.ts).
 *
 *   query   = or? END
 *   or      = and ("OR" and)*
 *   and     = unary (("AND")? unary)*          adjacent clauses are ANDed
 *   unary   = ("NOT" | "-") unary | primary
 *   primary = "(" or ")" | FIELD value | value  (a bare value is on `message`)
 *   value   = "(" or ")" | WORD | PHRASE | REGEX | COMPARE WORD | RANGE
 *
 * So NOT binds tighter than AND, AND tighter than OR. `field:(a OR b)` parses
 * its group with `field` as the default field. Every error is a QueryError
 * with the column of the token it is about.
 */
import { assert } from "../errors.ts";
import { canonicalFieldName, MESSAGE_FIELD } from "./ast.ts";
import type { Query, RangeBound, RangeQuery } from "./ast.ts";
import { lex, queryError } from "./lexer.ts";
import type { CompareOperator, Token, WordToken } from "./lexer.ts";
import { compileQueryRegex } from "./regex.ts";
import { parseNumber, parseTime } from "./values.ts";

/** Longest query accepted, in UTF-16 code units. */
export const QUERY_CHARS_MAX = 65_536;
/** Deepest nesting of parentheses and NOTs (the parser recurses; this bounds its stack). */
export const QUERY_NESTING_MAX = 100;

/** Where a bare value applies: `message` at the top, the group's field inside `field:( … )`. */
interface Scope {
  field: string;
  explicit: boolean;
}

const TOP_SCOPE: Scope = { field: MESSAGE_FIELD, explicit: false };

const CLAUSE_STARTS: ReadonlySet<Token["type"]> = new Set([
  "word",
  "field",
  "phrase",
  "regex",
  "compare",
  "range_open",
  "lparen",
  "not",
  "minus",
]);

export function parseQuery(query: string): Query {
  if (query.length > QUERY_CHARS_MAX) {
    throw queryError(query, QUERY_CHARS_MAX, `query longer than ${QUERY_CHARS_MAX} characters (${query.length})`);
  }
  return new Parser(query, lex(query)).parse();
}

class Parser {
  readonly query: string;
  readonly tokens: Token[];
  index = 0;

  constructor(query: string, tokens: Token[]) {
    this.query = query;
    this.tokens = tokens;
  }

  parse(): Query {
    if (this.peek().type === "end") return { kind: "all" };
    const query = this.parseOr(TOP_SCOPE, 0);
    const token = this.peek();
    if (token.type === "rparen") throw this.error(token, "unmatched ): no ( before it");
    if (token.type !== "end") throw this.error(token, `unexpected ${this.describe(token)}`);
    return query;
  }

  private peek(): Token {
    const token = this.tokens[this.index];
    assert(token !== undefined, "the lexer ends every token list with an end token");
    return token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.type !== "end") this.index++;
    return token;
  }

  private error(token: { start: number }, reason: string): Error {
    return queryError(this.query, token.start, reason);
  }

  private describe(token: Token): string {
    if (token.type === "end") return "end of query";
    return JSON.stringify(this.query.slice(token.start, token.end));
  }

  private parseOr(scope: Scope, depth: number): Query {
    const clauses = [this.parseAnd(scope, depth)];
    while (this.peek().type === "or") {
      const operator = this.next();
      this.expectClauseAfter(operator, "OR");
      clauses.push(this.parseAnd(scope, depth));
    }
    return clauses.length === 1 ? (clauses[0] as Query) : { kind: "or", clauses };
  }

  private parseAnd(scope: Scope, depth: number): Query {
    const clauses = [this.parseUnary(scope, depth)];
    for (;;) {
      const token = this.peek();
      if (token.type === "and") {
        this.next();
        this.expectClauseAfter(token, "AND");
      } else if (!CLAUSE_STARTS.has(token.type)) {
        break;
      }
      clauses.push(this.parseUnary(scope, depth));
    }
    return clauses.length === 1 ? (clauses[0] as Query) : { kind: "and", clauses };
  }

  /** After AND/OR/NOT/-: the next token must start a clause. */
  private expectClauseAfter(operator: Token, name: string): void {
    const token = this.peek();
    if (CLAUSE_STARTS.has(token.type)) return;
    if (token.type === "end") throw this.error(operator, `${name} needs a clause after it`);
    throw this.error(token, `expected a clause after ${name}, found ${this.describe(token)}`);
  }

  private parseUnary(scope: Scope, depth: number): Query {
    const token = this.peek();
    if (depth > QUERY_NESTING_MAX) throw this.error(token, `nested deeper than ${QUERY_NESTING_MAX} levels`);
    if (token.type === "not" || token.type === "minus") {
      this.next();
      if (token.type === "minus" && this.peek().start !== token.end) {
        throw this.error(token, "- needs what it negates right after it, like -debug or -host:web-1");
      }
      this.expectClauseAfter(token, token.type === "not" ? "NOT" : "-");
      return { kind: "not", clause: this.parseUnary(scope, depth + 1) };
    }
    return this.parsePrimary(scope, depth);
  }

  private parsePrimary(scope: Scope, depth: number): Query {
    const token = this.next();
    switch (token.type) {
      case "lparen":
        return this.parseGroup(token, scope, depth);
      case "field":
        return this.parseFieldValue(token, depth);
      case "word":
      case "phrase":
      case "regex":
      case "compare":
      case "range_open":
        return this.parseValue(token, scope, depth);
      case "and":
      case "or":
        throw this.error(token, `${token.type.toUpperCase()} needs a clause before it`);
      case "rparen":
        throw this.error(token, "unmatched ): no ( before it");
      default:
        throw this.error(token, `expected a search term, found ${this.describe(token)}`);
    }
  }

  private parseGroup(open: Token, scope: Scope, depth: number): Query {
    if (this.peek().type === "rparen") throw this.error(open, "empty parentheses");
    const query = this.parseOr(scope, depth + 1);
    const close = this.next();
    if (close.type === "rparen") return query;
    if (close.type === "end") throw this.error(open, "unclosed (: it needs a )");
    throw this.error(close, `unexpected ${this.describe(close)}`);
  }

  private parseFieldValue(fieldToken: Extract<Token, { type: "field" }>, depth: number): Query {
    const field = canonicalFieldName(fieldToken.name);
    if (field === undefined) {
      throw this.error(
        fieldToken,
        fieldToken.name === "fields"
          ? "fields holds the parsed fields: name one, like fields.status"
          : `${JSON.stringify(fieldToken.name)} is not a field name; to search for text with a colon, quote it or escape the colon (\\:)`,
      );
    }
    const value = this.peek();
    if (value.start !== fieldToken.end || value.type === "end" || value.type === "rparen") {
      throw queryError(this.query, fieldToken.end, `empty value for ${fieldToken.name}: write ${fieldToken.name}:value or ${fieldToken.name}:"a phrase"`);
    }
    this.next();
    return this.parseValue(value, { field, explicit: true }, depth);
  }

  private parseValue(token: Token, scope: Scope, depth: number): Query {
    const field = scope.field;
    switch (token.type) {
      case "lparen":
        return this.parseGroup(token, scope, depth);
      case "word":
        return this.wordQuery(token, scope);
      case "phrase":
        return { kind: "phrase", field, value: token.text };
      case "regex":
        return this.regexQuery(token, field);
      case "compare":
        return this.comparison(token, token.operator, field);
      case "range_open":
        return this.range(token, token.inclusive, field);
      default:
        throw this.error(token, `expected a value, found ${this.describe(token)}`);
    }
  }

  private wordQuery(word: WordToken, scope: Scope): Query {
    const field = scope.field;
    if (word.text === "*" && word.wildcardCount === 1) return scope.explicit ? { kind: "exists", field } : { kind: "all" };
    if (word.wildcardCount === 0) return { kind: "term", field, value: word.text };
    if (word.wildcardCount === 1 && word.endsWithStar) return { kind: "prefix", field, value: word.text.slice(0, -1) };
    return { kind: "wildcard", field, pattern: word.pattern };
  }

  private regexQuery(token: Extract<Token, { type: "regex" }>, field: string): Query {
    const compiled = compileQueryRegex(token.pattern);
    if (compiled instanceof RegExp) return { kind: "regex", field, pattern: token.pattern };
    throw this.error(token, compiled.refused);
  }

  private comparison(token: Token, operator: CompareOperator, field: string): Query {
    this.requireRangeField(token, field);
    const value = this.peek();
    if (value.type !== "word" || value.start !== token.end) {
      throw queryError(this.query, token.end, `expected a number or time right after ${operator}`);
    }
    this.next();
    const bound = this.bound(value);
    if (bound === undefined) throw this.error(value, `${operator} needs a number or time, not *`);
    const inclusive = operator === ">=" || operator === "<=";
    const limit: RangeBound = { value: bound.value, inclusive };
    const lower = operator.startsWith(">") ? limit : null;
    const upper = operator.startsWith("<") ? limit : null;
    return { kind: "range", field, valueType: bound.valueType, lower, upper };
  }

  private range(open: Token, lowerInclusive: boolean, field: string): Query {
    this.requireRangeField(open, field);
    const lowerToken = this.rangeWord(open, "a lower bound");
    const to = this.next();
    if (to.type !== "to") throw this.unexpectedInRange(open, to, "TO between the bounds, like [400 TO 499]");
    const upperToken = this.rangeWord(open, "an upper bound");
    const close = this.next();
    if (close.type !== "range_close") throw this.unexpectedInRange(open, close, "] or } to end the range");
    const lower = this.bound(lowerToken);
    const upper = this.bound(upperToken);
    if (lower === undefined && upper === undefined) return { kind: "exists", field };
    if (lower !== undefined && upper !== undefined) {
      if (lower.valueType !== upper.valueType) {
        throw this.error(upperToken, `the bounds differ in type: the lower is a ${lower.valueType}, the upper a ${upper.valueType}`);
      }
      if (lower.value > upper.value) throw this.error(lowerToken, `bad range: ${lowerToken.text} is greater than ${upperToken.text}`);
    }
    const valueType = (lower ?? upper)?.valueType ?? "number";
    const query: RangeQuery = {
      kind: "range",
      field,
      valueType,
      lower: lower === undefined ? null : { value: lower.value, inclusive: lowerInclusive },
      upper: upper === undefined ? null : { value: upper.value, inclusive: close.inclusive },
    };
    return query;
  }

  private rangeWord(open: Token, what: string): WordToken {
    const token = this.next();
    if (token.type === "word") return token;
    throw this.unexpectedInRange(open, token, what);
  }

  private unexpectedInRange(open: Token, token: Token, expected: string): Error {
    if (token.type === "end") return this.error(open, `unclosed range: expected ${expected}`);
    return this.error(token, `bad range: expected ${expected}, found ${this.describe(token)}`);
  }

  private requireRangeField(token: Token, field: string): void {
    if (field !== MESSAGE_FIELD) return;
    throw this.error(token, "a range or comparison needs a field, like status:>=500 or status:[400 TO 499]; to search for the text, quote it");
  }

  /** A range bound: undefined for `*`. */
  private bound(token: WordToken): { value: number; valueType: "number" | "time" } | undefined {
    if (token.text === "*" && token.wildcardCount === 1) return undefined;
    const number = parseNumber(token.text);
    if (number !== undefined) return { value: number, valueType: "number" };
    const time = parseTime(token.text);
    if (time !== undefined) return { value: time, valueType: "time" };
    throw this.error(token, `bad range bound ${JSON.stringify(token.text)}: expected a number, an RFC 3339 time (2026-11-29T10:00:00Z), a date or *`);
  }
}
