/**
 * Operating errors of the embedded search index, with a stable `code`
 * (STYLE.md): a partition file of another format, a cursor that was not made
 * by this index for this order, a tenant that cannot name a directory, a
 * write the partition writer thread could not make durable; and
 * the refusals of the search API's parameters (routes.ts).
 */
import { LogshipError } from "../../shared/errors.ts";

export type IndexErrorCode = "LOGSHIP_INDEX_FORMAT" | "LOGSHIP_INDEX_CURSOR" | "LOGSHIP_INDEX_TENANT" | "LOGSHIP_INDEX_WRITER";

export class IndexError extends LogshipError {
  declare readonly code: IndexErrorCode;

  constructor(code: IndexErrorCode, message: string) {
    super(code, message);
    this.name = "IndexError";
  }
}

export const SEARCH_REQUEST_ERROR_STATUS = {
  /** A parameter of `GET /v1/search` or `/v1/histogram` is missing, repeated, unknown or malformed. */
  LOGSHIP_SEARCH_REQUEST: 400,
  /** This collector keeps no embedded index to answer from. */
  LOGSHIP_SEARCH_UNAVAILABLE: 404,
  /** `GET /v1/context`: no event with that id in the tenant's index. */
  LOGSHIP_EVENT_NOT_FOUND: 404,
  /** `GET /v1/tail`: TAIL_STREAMS_MAX streams are open already; retry later. */
  LOGSHIP_TAIL_BUSY: 503,
} as const;

export type SearchRequestErrorCode = keyof typeof SEARCH_REQUEST_ERROR_STATUS;

/** A search API request refused (mostly before any index is read): the HTTP status and a reason naming the parameter. */
export class SearchRequestError extends LogshipError {
  declare readonly code: SearchRequestErrorCode;
  readonly status: number;

  constructor(code: SearchRequestErrorCode, message: string) {
    super(code, message);
    this.name = "SearchRequestError";
    this.status = SEARCH_REQUEST_ERROR_STATUS[code];
  }
}
