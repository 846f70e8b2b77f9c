/**
 * Why a replay (`POST /v1/sinks/<name>/replay`, `logship replay`) was
 * refused: a stable `code` that the CLI and tests match on, the HTTP status
 * the collector answers with, and a one-line reason that tells the operator
 * what to do (docs/SINKS.md lists them).
 */
import { LogshipError } from "../../shared/errors.ts";

export const REPLAY_ERROR_STATUS = {
  /** No configured sink has that name; the message lists the known ones. */
  LOGSHIP_REPLAY_UNKNOWN_SINK: 404,
  /** The collector has no log for that tenant; the message lists the tenants it has. */
  LOGSHIP_REPLAY_UNKNOWN_TENANT: 404,
  /** The offset is past the tenant's log end. */
  LOGSHIP_REPLAY_OFFSET_BEYOND_END: 400,
  /** Retention already deleted the offset; the message says where the log starts now. */
  LOGSHIP_REPLAY_OFFSET_DELETED: 410,
  /** The request body is not a replay request. */
  LOGSHIP_REPLAY_REQUEST: 400,
  /** Another replay of the same sink and tenant is waiting to be applied. */
  LOGSHIP_REPLAY_PENDING: 409,
  /** The runner is not running (the collector is stopping, or its state could not be opened). */
  LOGSHIP_REPLAY_UNAVAILABLE: 503,
} as const;

export type ReplayErrorCode = keyof typeof REPLAY_ERROR_STATUS;

export class ReplayError extends LogshipError {
  declare readonly code: ReplayErrorCode;
  readonly status: number;

  constructor(code: ReplayErrorCode, message: string) {
    super(code, message);
    this.name = "ReplayError";
    this.status = REPLAY_ERROR_STATUS[code];
  }
}
