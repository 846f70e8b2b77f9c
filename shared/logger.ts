/**
 * logship's own log: one line per happening (never one per event on the hot
 * path), JSON with `--log-format json`, readable `time level message k=v`
 * text otherwise. Written to stderr so that stdout stays for data (dry-run
 * NDJSON, search results).
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  format: "json" | "text";
  write: (line: string) => void;
  bindings?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = LEVEL_RANK[options.level];
  const bindings = options.bindings ?? {};
  const emit = (level: LogLevel, message: string, context: Record<string, unknown> | undefined): void => {
    if (LEVEL_RANK[level] < threshold) return;
    const time = new Date().toISOString();
    const all = { ...bindings, ...context };
    if (options.format === "json") {
      options.write(JSON.stringify({ time, level, msg: message, ...all }) + "\n");
      return;
    }
    let line = `${time} ${level.toUpperCase().padEnd(5)} ${message}`;
    for (const [key, value] of Object.entries(all)) {
      const text = typeof value === "string" ? value : JSON.stringify(value);
      line += ` ${key}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
    }
    options.write(line + "\n");
  };
  return {
    debug: (message, context) => emit("debug", message, context),
    info: (message, context) => emit("info", message, context),
    warn: (message, context) => emit("warn", message, context),
    error: (message, context) => emit("error", message, context),
    child: (more) => createLogger({ ...options, bindings: { ...bindings, ...more } }),
  };
}

/** A logger that drops everything (tests that check behaviour, not logs). */
export const silentLogger: Logger = createLogger({ level: "error", format: "text", write: () => {} });
