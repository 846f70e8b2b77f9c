/**
 * Operating errors carry a stable `code` that callers match on (the undici
 * habit). Programmer errors are assertions and crash: see `assert` below.
 */
export class LogshipError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LogshipError";
    this.code = code;
  }
}

/** A configuration or usage problem: the CLI exits 2 with this message. */
export class ConfigError extends LogshipError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("LOGSHIP_CONFIG", message, options);
    this.name = "ConfigError";
  }
}

/**
 * A search query or a transform condition that does not parse. `column` is
 * 1-based and counts Unicode code points of `query`; it may be one past the
 * end ("expected a value here"). The CLI exits 2 with this, like a ConfigError.
 */
export class QueryError extends LogshipError {
  readonly query: string;
  readonly column: number;
  readonly reason: string;
  constructor(query: string, column: number, reason: string, options?: { cause?: unknown }) {
    super("LOGSHIP_QUERY", `invalid query at column ${column}: ${reason}`, options);
    this.name = "QueryError";
    this.query = query;
    this.column = column;
    this.reason = reason;
  }
}

/** Programmer's assumption; a violation is a bug, so crash loudly. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}
