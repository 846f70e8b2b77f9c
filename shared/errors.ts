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

/** Programmer's assumption; a violation is a bug, so crash loudly. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}
