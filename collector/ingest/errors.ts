/**
 * Every refusal of the ingest endpoint: an HTTP status, a stable `code`
 * (docs/INGEST.md lists them; agents match on the status, operators and
 * tests on the code) and a one-line reason. The body is
 * `{"error": reason, "code": code}`.
 */
import { LogshipError } from "../../shared/errors.ts";

export const INGEST_ERROR_STATUS = {
  LOGSHIP_AUTH_MISSING: 401,
  LOGSHIP_AUTH_INVALID: 401,
  LOGSHIP_AUTH_FORBIDDEN: 403,
  LOGSHIP_NOT_FOUND: 404,
  LOGSHIP_METHOD_NOT_ALLOWED: 405,
  LOGSHIP_INGEST_TIMEOUT: 408,
  LOGSHIP_INGEST_ENCODING: 415,
  LOGSHIP_INGEST_BODY_TOO_LARGE: 413,
  LOGSHIP_INGEST_BATCH_TOO_LARGE: 413,
  LOGSHIP_INGEST_TOO_MANY_EVENTS: 413,
  LOGSHIP_LOG_RECORD_TOO_LARGE: 413,
  LOGSHIP_INGEST_ZSTD: 400,
  LOGSHIP_INGEST_ZSTD_TRUNCATED: 400,
  LOGSHIP_INGEST_BODY_INCOMPLETE: 400,
  LOGSHIP_WIRE: 400,
  LOGSHIP_INGEST_HEADER: 400,
  LOGSHIP_INGEST_OVERLOADED: 429,
  LOGSHIP_SHUTTING_DOWN: 503,
  LOGSHIP_LOG_UNAVAILABLE: 503,
  LOGSHIP_INTERNAL: 500,
} as const;

export type IngestErrorCode = keyof typeof INGEST_ERROR_STATUS;

export class IngestError extends LogshipError {
  declare readonly code: IngestErrorCode;
  readonly status: number;
  /** Seconds, sent as `Retry-After` (429 and 503). */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: IngestErrorCode, message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "IngestError";
    this.status = INGEST_ERROR_STATUS[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}
