/** Operating errors of the log (embedded or Kafka); callers match on `code`. */
import { LogshipError } from "../../shared/errors.ts";

export type LogErrorCode =
  /** The log was closed (shutdown); nothing more is appended. */
  | "LOGSHIP_LOG_CLOSED"
  /** A write, fsync or segment roll failed (the tenant's log is being repaired), or Kafka did not acknowledge. Retry later. */
  | "LOGSHIP_LOG_UNAVAILABLE"
  /** Kafka log: the batch is larger than the topic's record size limit; sending it again cannot work. */
  | "LOGSHIP_LOG_RECORD_TOO_LARGE"
  /** A tenant name that cannot be a directory name. */
  | "LOGSHIP_LOG_TENANT"
  /** The log directory cannot be used at all (not a directory, unreadable). */
  | "LOGSHIP_LOG_OPEN";

export class LogError extends LogshipError {
  declare readonly code: LogErrorCode;
  constructor(code: LogErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "LogError";
  }
}
