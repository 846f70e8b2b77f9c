/** A logger that keeps every line as an object, for tests that check what was logged. */
import type { Logger } from "../../shared/logger.ts";

export interface LoggedLine {
  level: string;
  message: string;
  context: Record<string, unknown>;
}

export function recordingLogger(lines: LoggedLine[]): Logger {
  const logger: Logger = {
    debug: (message, context = {}) => lines.push({ level: "debug", message, context }),
    info: (message, context = {}) => lines.push({ level: "info", message, context }),
    warn: (message, context = {}) => lines.push({ level: "warn", message, context }),
    error: (message, context = {}) => lines.push({ level: "error", message, context }),
    child: () => logger,
  };
  return logger;
}
