/**
 * Operating errors of the embedded search index, with a stable `code`
 * (STYLE.md): a partition file of another format, a cursor that was not made
 * by this index for this order, a tenant that cannot name a directory.
 */
import { LogshipError } from "../../shared/errors.ts";

export type IndexErrorCode = "LOGSHIP_INDEX_FORMAT" | "LOGSHIP_INDEX_CURSOR" | "LOGSHIP_INDEX_TENANT";

export class IndexError extends LogshipError {
  declare readonly code: IndexErrorCode;

  constructor(code: IndexErrorCode, message: string) {
    super(code, message);
    this.name = "IndexError";
  }
}
