/**
 * Failures of WebHDFS calls, classified for the archive sink into those worth
 * retrying as they are and those an operator must fix first.
 *
 * HDFS answers every IOException with 403 and a RemoteException naming the
 * Java class (Hadoop's WebHDFS ExceptionHandler), so the status alone does
 * not tell "the NameNode is in safe mode" from "permission denied": the
 * exception's name does. Codes:
 *
 *   WEBHDFS_UNREACHABLE   no HTTP answer (refused, reset, timed out, name not resolved)   retry
 *   WEBHDFS_UNAVAILABLE   5xx, 408, 429, or an IOException HDFS may get over by itself
 *                         (safe mode, standby, a DataNode that cannot reach the NameNode,
 *                         a quota, a lease)                                                retry
 *   WEBHDFS_REFUSED       401, 400, or an exception that needs an operator
 *                         (REJECTING_EXCEPTIONS: permissions, a path in the way)          reject
 *   WEBHDFS_PROTOCOL      an answer that is not WebHDFS (no redirect, not the JSON asked) reject
 *   WEBHDFS_RENAME        a RENAME answered false and the destination is not in place     retry
 */
import { LogshipError } from "../../../shared/errors.ts";

export type WebHdfsErrorCode = "WEBHDFS_UNREACHABLE" | "WEBHDFS_UNAVAILABLE" | "WEBHDFS_REFUSED" | "WEBHDFS_PROTOCOL" | "WEBHDFS_RENAME";

/** RemoteException class names that retrying cannot get past. */
const REJECTING_EXCEPTIONS = new Set([
  "AccessControlException",
  "AuthorizationException",
  "SecurityException",
  "FileAlreadyExistsException",
  "ParentNotDirectoryException",
  "PathIsNotDirectoryException",
  "InvalidPathException",
  "IllegalArgumentException",
  "UnsupportedOperationException",
]);

const RETRYING_CODES = new Set<WebHdfsErrorCode>(["WEBHDFS_UNREACHABLE", "WEBHDFS_UNAVAILABLE", "WEBHDFS_RENAME"]);

export class WebHdfsError extends LogshipError {
  declare readonly code: WebHdfsErrorCode;
  /** Worth retrying as is (the sink answers retry with its usual backoff); else an operator must act first. */
  readonly retryable: boolean;
  /** HTTP status, when HDFS answered. */
  readonly status: number | null;
  /** The RemoteException's class name, when HDFS sent one. */
  readonly exception: string | null;

  constructor(code: WebHdfsErrorCode, message: string, details: { status?: number; exception?: string | null; cause?: unknown } = {}) {
    super(code, message, { cause: details.cause });
    this.name = "WebHdfsError";
    this.retryable = RETRYING_CODES.has(code);
    this.status = details.status ?? null;
    this.exception = details.exception ?? null;
  }
}

/** The code for an HTTP error answer: `exception` is the RemoteException's class name, if any. */
export function errorCodeForAnswer(status: number, exception: string | null): WebHdfsErrorCode {
  if (status >= 500 || status === 408 || status === 429) return "WEBHDFS_UNAVAILABLE";
  if (exception !== null && REJECTING_EXCEPTIONS.has(exception)) return "WEBHDFS_REFUSED";
  if (status === 403 && exception !== null) return "WEBHDFS_UNAVAILABLE";
  return "WEBHDFS_REFUSED";
}

/** The RemoteException's class name and message of an error answer's body (Hadoop's JSON), or nulls. */
export function parseRemoteException(body: string): { exception: string | null; message: string | null } {
  try {
    const parsed = JSON.parse(body) as { RemoteException?: { exception?: unknown; message?: unknown } };
    const remote = parsed.RemoteException;
    return {
      exception: typeof remote?.exception === "string" ? remote.exception : null,
      message: typeof remote?.message === "string" ? remote.message : null,
    };
  } catch {
    // Not JSON (a proxy's or a web server's page): the caller reports the status and the body's start instead.
    return { exception: null, message: null };
  }
}
