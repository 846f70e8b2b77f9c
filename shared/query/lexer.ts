/**
 * The query lexer: the whole query into tokens, once, with their offsets
 * (UTF-16 indexes into the query) for error columns.
 *
 * Context is small and kept here: a token right after `field:` or after a
 * comparison operator is in *value position*, where `-` and `:` are literal,
 * `=`/`!=` start a comparison and AND/OR/NOT are plain words; between `[`/`{`
 * and `]`/`}` words end at brackets and `TO` is a keyword. A backslash makes
 * the next character literal everywhere outside regexes; in a regex the
 * pattern is kept as written, `\/` included.
 */
import { QueryError } from "../errors.ts";

export type CompareOperator = ">" | ">=" | "<" | "<=";

interface Span {
  /** UTF-16 offsets: the token is query.slice(start, end). */
  start: number;
  end: number;
}

export interface WordToken extends Span {
  type: "word";
  /** The word with escapes removed. */
  text: string;
  /** The word in Lucene wildcard syntax: unescaped `*` `?` are wildcards; `\*`, `\?`, `\\` literal. */
  pattern: string;
  /** How many unescaped `*` and `?` it holds. */
  wildcardCount: number;
  /** The last character is an unescaped `*`. */
  endsWithStar: boolean;
  /** A backslash was used (an escaped word is never a keyword). */
  escaped: boolean;
}

export type Token =
  | WordToken
  | (Span & { type: "field"; name: string })
  | (Span & { type: "phrase"; text: string })
  | (Span & { type: "regex"; pattern: string })
  | (Span & { type: "compare"; operator: CompareOperator })
  | (Span & { type: "range_open"; inclusive: boolean })
  | (Span & { type: "range_close"; inclusive: boolean })
  | (Span & { type: "and" | "or" | "not" | "minus" | "to" | "lparen" | "rparen" | "end" });

const WHITESPACE = /\s/u;
const COMPARE_CHARS = "<>=!";
const COMPARE_OPERATORS: ReadonlySet<string> = new Set([">", ">=", "<", "<="]);
const KEYWORDS: Readonly<Record<string, "and" | "or" | "not">> = { AND: "and", OR: "or", NOT: "not" };

/** 1-based column of a UTF-16 offset, counting code points. */
export function columnAt(query: string, offset: number): number {
  return [...query.slice(0, offset)].length + 1 + Math.max(0, offset - query.length);
}

export function queryError(query: string, offset: number, reason: string, cause?: unknown): QueryError {
  return new QueryError(query, columnAt(query, offset), reason, cause === undefined ? undefined : { cause });
}

export function lex(query: string): Token[] {
  return new Lexer(query).run();
}

class Lexer {
  readonly query: string;
  readonly tokens: Token[] = [];
  position = 0;
  inRange = false;

  constructor(query: string) {
    this.query = query;
  }

  run(): Token[] {
    for (;;) {
      const valuePosition = this.atValuePosition();
      while (this.position < this.query.length && WHITESPACE.test(this.charAt(this.position))) this.position++;
      if (this.position >= this.query.length) {
        this.tokens.push({ type: "end", start: this.position, end: this.position });
        return this.tokens;
      }
      const adjacent = valuePosition && this.previousEnd() === this.position;
      this.tokens.push(this.inRange ? this.rangeToken() : this.token(adjacent));
    }
  }

  private charAt(index: number): string {
    return this.query[index] ?? "";
  }

  private previousEnd(): number {
    return this.tokens.at(-1)?.end ?? -1;
  }

  private atValuePosition(): boolean {
    const previous = this.tokens.at(-1);
    return previous !== undefined && (previous.type === "field" || previous.type === "compare");
  }

  private token(valuePosition: boolean): Token {
    const start = this.position;
    const char = this.charAt(start);
    if (char === "(" || char === ")") {
      this.position++;
      return { type: char === "(" ? "lparen" : "rparen", start, end: this.position };
    }
    if (char === '"') return this.phrase();
    if (char === "/") return this.regex();
    if (char === "[" || char === "{") {
      this.position++;
      this.inRange = true;
      return { type: "range_open", inclusive: char === "[", start, end: this.position };
    }
    const next = this.charAt(start + 1);
    if (char === "<" || char === ">" || (valuePosition && (char === "=" || (char === "!" && next === "=")))) return this.compare();
    if (!valuePosition && char === "-") {
      this.position++;
      return { type: "minus", start, end: this.position };
    }
    return this.word(valuePosition);
  }

  private rangeToken(): Token {
    const start = this.position;
    const char = this.charAt(start);
    if (char === "]" || char === "}") {
      this.position++;
      this.inRange = false;
      return { type: "range_close", inclusive: char === "]", start, end: this.position };
    }
    const word = this.readWord((c) => c === "]" || c === "}");
    if (!word.escaped && word.text === "TO") return { type: "to", start, end: word.end };
    return word;
  }

  private word(valuePosition: boolean): Token {
    const start = this.position;
    const word = this.readWord((c) => c === "(" || c === ")" || c === '"' || (!valuePosition && c === ":"));
    if (!valuePosition && this.charAt(this.position) === ":") {
      this.position++;
      return { type: "field", name: word.text, start, end: this.position };
    }
    const keyword = valuePosition || word.escaped ? undefined : KEYWORDS[word.text];
    return keyword === undefined ? word : { type: keyword, start, end: word.end };
  }

  /** Reads up to whitespace or a `stop` character; `\x` is a literal x. */
  private readWord(stop: (char: string) => boolean): WordToken {
    const start = this.position;
    let text = "";
    let pattern = "";
    let wildcardCount = 0;
    let endsWithStar = false;
    let escaped = false;
    while (this.position < this.query.length) {
      const char = this.charAt(this.position);
      if (WHITESPACE.test(char) || stop(char)) break;
      endsWithStar = false;
      if (char === "\\") {
        const literal = this.escapedCharAt(this.position);
        escaped = true;
        text += literal;
        pattern += literal === "*" || literal === "?" || literal === "\\" ? `\\${literal}` : literal;
        this.position += 1 + literal.length;
        continue;
      }
      text += char;
      pattern += char;
      if (char === "*" || char === "?") {
        wildcardCount++;
        endsWithStar = char === "*";
      }
      this.position++;
    }
    return { type: "word", text, pattern, wildcardCount, endsWithStar, escaped, start, end: this.position };
  }

  /** The code point escaped by the backslash at `index`. */
  private escapedCharAt(index: number): string {
    const code = this.query.codePointAt(index + 1);
    if (code === undefined) throw queryError(this.query, index, "a backslash at the end escapes nothing");
    return String.fromCodePoint(code);
  }

  private phrase(): Token {
    const start = this.position;
    let text = "";
    this.position++;
    for (;;) {
      if (this.position >= this.query.length) throw queryError(this.query, start, 'unclosed quote: a phrase needs a closing "');
      const char = this.charAt(this.position);
      if (char === '"') break;
      if (char === "\\") {
        const literal = this.escapedCharAt(this.position);
        text += literal;
        this.position += 1 + literal.length;
        continue;
      }
      text += char;
      this.position++;
    }
    this.position++;
    this.expectEndOfTerm(start, "phrase");
    return { type: "phrase", text, start, end: this.position };
  }

  private regex(): Token {
    const start = this.position;
    let inClass = false;
    this.position++;
    for (;;) {
      if (this.position >= this.query.length) {
        throw queryError(this.query, start, "unclosed regex: it needs a closing / (to search for a path, quote it: \"/var/log\")");
      }
      const char = this.charAt(this.position);
      if (char === "\\") {
        this.position += 1 + this.escapedCharAt(this.position).length;
        continue;
      }
      if (char === "/" && !inClass) break;
      if (char === "[") inClass = true;
      else if (char === "]") inClass = false;
      this.position++;
    }
    const pattern = this.query.slice(start + 1, this.position);
    this.position++;
    this.expectEndOfTerm(start, "regex");
    return { type: "regex", pattern, start, end: this.position };
  }

  /** A phrase or regex ends at whitespace, `)` or the end: `"a"~2`, `/a/i`, `/var/log` are errors, not guesses. */
  private expectEndOfTerm(start: number, what: "phrase" | "regex"): void {
    const next = this.charAt(this.position);
    if (next === "" || next === ")" || WHITESPACE.test(next)) return;
    const hint =
      what === "regex"
        ? "regex flags are not supported (use (?i:...) for case-insensitive); to search for a path, quote it: path:\"/var/log/app.log\""
        : "proximity and boosts are not supported";
    throw queryError(this.query, this.position, `unexpected ${JSON.stringify(next)} after the ${what} that starts at column ${columnAt(this.query, start)}: ${hint}`);
  }

  private compare(): Token {
    const start = this.position;
    while (this.position < this.query.length && COMPARE_CHARS.includes(this.charAt(this.position))) this.position++;
    const operator = this.query.slice(start, this.position);
    if (!COMPARE_OPERATORS.has(operator)) {
      throw queryError(this.query, start, `unknown comparison ${JSON.stringify(operator)}: use >, >=, <, <= or a range like [400 TO 499]`);
    }
    return { type: "compare", operator: operator as CompareOperator, start, end: this.position };
  }
}
