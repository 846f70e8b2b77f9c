/**
 * The WebHDFS REST calls the archive needs (Hadoop's "WebHDFS REST API"),
 * with undici. Paths are absolute HDFS paths ("/logs/tenant=a/x.parquet");
 * `user` goes as `user.name` (simple authentication) when set.
 *
 *   CREATE       two steps: PUT to the NameNode (no body) answers 307 with a
 *                DataNode URL in Location; PUT the bytes there, answered 201
 *                once the file is closed in HDFS; missing parent directories
 *                are created with it (so no MKDIRS call is needed)
 *   OPEN         two steps the same way: GET at the NameNode, 307, GET at the DataNode
 *   RENAME       PUT, {"boolean": true|false}
 *   DELETE       DELETE, {"boolean": …} (false: nothing to delete)
 *   LISTSTATUS   GET, {"FileStatuses": {"FileStatus": [{pathSuffix, type, length, …}]}}
 *   GETFILESTATUS GET, {"FileStatus": {…}}
 *
 * The DataNode is named in the redirect as the NameNode knows it, often a
 * host name: it is resolved like any other (getaddrinfo, /etc/hosts). The
 * upload to the DataNode goes through node:http (datanode-upload.ts says
 * why); every other call through undici. Every
 * call is one attempt: failures throw WebHdfsError (webhdfs-errors.ts) with a
 * code saying whether to retry; the caller owns retries.
 */
import { Agent, request, type Dispatcher } from "undici";
import type { Readable } from "node:stream";
import { assert } from "../../../shared/errors.ts";
import { putToDataNode } from "./datanode-upload.ts";
import { errorCodeForAnswer, parseRemoteException, WebHdfsError } from "./webhdfs-errors.ts";

export interface WebHdfsClientOptions {
  /** "http://namenode:9870" (webhdfs://) or "https://…" (swebhdfs://). */
  namenodeUrl: string;
  /** Sent as `user.name` (simple authentication); absent: HDFS takes the call as its anonymous user. */
  user?: string | undefined;
  /** Connect, answer headers and answer body of each request, each at most this long. */
  timeoutMs: number;
}

export interface FileStatus {
  pathSuffix: string;
  type: "FILE" | "DIRECTORY" | "SYMLINK";
  length: number;
}

/** The start of an unexpected answer quoted in an error. */
const BODY_QUOTED_CHARS_MAX = 200;
/** Idle connections to the NameNode and DataNodes are closed after this. */
const KEEP_ALIVE_TIMEOUT_MS = 4_000;

type Method = "GET" | "PUT" | "DELETE";

export class WebHdfsClient {
  private readonly options: WebHdfsClientOptions;
  private readonly dispatcher: Agent;

  constructor(options: WebHdfsClientOptions) {
    assert(options.timeoutMs >= 1, "a WebHDFS timeout is positive");
    this.options = options;
    this.dispatcher = new Agent({ connect: { timeout: options.timeoutMs }, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  }

  /** Writes `body` (`lengthBytes` long) as the file `path`, replacing one there; parents are created. */
  async create(path: string, body: () => Readable, lengthBytes: number): Promise<void> {
    const location = await this.redirect("PUT", path, "CREATE", { overwrite: "true" });
    const what = `CREATE ${path} at the DataNode`;
    let answer;
    try {
      answer = await putToDataNode(location, body(), lengthBytes, this.options.timeoutMs);
    } catch (error) {
      throw unreachable(what, location, error);
    }
    if (answer.status !== 201) throw failure(answer.status, answer.body, what);
  }

  /** The whole content of the file `path`. */
  async read(path: string): Promise<Buffer> {
    const location = await this.redirect("GET", path, "OPEN", {});
    const answer = await this.send("GET", location, `OPEN ${path} at the DataNode`);
    if (answer.statusCode !== 200) throw await this.failure(answer, `OPEN ${path} at the DataNode`);
    return Buffer.from(await answer.body.arrayBuffer());
  }

  /** True when renamed; false when HDFS did not (the source is missing or the destination exists). */
  async rename(from: string, to: string): Promise<boolean> {
    return this.booleanCall("PUT", from, "RENAME", { destination: to });
  }

  /** True when deleted; false when there was nothing to delete. */
  async delete(path: string): Promise<boolean> {
    return this.booleanCall("DELETE", path, "DELETE", { recursive: "false" });
  }

  /** The entries of the directory `path`, or null when it does not exist. */
  async listStatus(path: string): Promise<FileStatus[] | null> {
    const json = await this.jsonCall("GET", path, "LISTSTATUS", {}, true);
    if (json === null) return null;
    const statuses = (json as { FileStatuses?: { FileStatus?: unknown } }).FileStatuses?.FileStatus;
    if (!Array.isArray(statuses)) throw new WebHdfsError("WEBHDFS_PROTOCOL", `LISTSTATUS ${path}: no FileStatuses.FileStatus array in the answer`);
    return statuses.map((status) => fileStatus(status, path));
  }

  /** The status of `path`, or null when it does not exist. */
  async fileStatus(path: string): Promise<FileStatus | null> {
    const json = await this.jsonCall("GET", path, "GETFILESTATUS", {}, true);
    return json === null ? null : fileStatus((json as { FileStatus?: unknown }).FileStatus, path);
  }

  /** Closes idle connections and waits for the ones in use. */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private url(path: string, op: string, parameters: Record<string, string>): string {
    assert(path.startsWith("/"), "WebHDFS paths are absolute");
    const query = new URLSearchParams({ op, ...parameters });
    if (this.options.user !== undefined) query.set("user.name", this.options.user);
    const encodedPath = path.split("/").map(encodeURIComponent).join("/");
    return `${this.options.namenodeUrl}/webhdfs/v1${encodedPath}?${query.toString()}`;
  }

  /** The first step of CREATE and OPEN: the NameNode's 307 and the DataNode URL it names. */
  private async redirect(method: Method, path: string, op: string, parameters: Record<string, string>): Promise<string> {
    const what = `${op} ${path} at the NameNode`;
    const answer = await this.send(method, this.url(path, op, parameters), what);
    if (answer.statusCode !== 307) throw await this.failure(answer, what);
    await answer.body.dump();
    const location = answer.headers.location;
    if (typeof location !== "string" || !URL.canParse(location)) throw new WebHdfsError("WEBHDFS_PROTOCOL", `${what}: a 307 without a usable Location header`);
    return location;
  }

  private async booleanCall(method: Method, path: string, op: string, parameters: Record<string, string>): Promise<boolean> {
    const json = await this.jsonCall(method, path, op, parameters, false);
    const value = (json as { boolean?: unknown } | null)?.boolean;
    if (typeof value !== "boolean") throw new WebHdfsError("WEBHDFS_PROTOCOL", `${op} ${path}: no {"boolean": …} in the answer`);
    return value;
  }

  /** A one-step call answered 200 with JSON; with `notFoundIsNull`, a 404 is null. */
  private async jsonCall(method: Method, path: string, op: string, parameters: Record<string, string>, notFoundIsNull: boolean): Promise<unknown> {
    const what = `${op} ${path}`;
    const answer = await this.send(method, this.url(path, op, parameters), what);
    if (answer.statusCode === 404 && notFoundIsNull) {
      await answer.body.dump();
      return null;
    }
    if (answer.statusCode !== 200) throw await this.failure(answer, what);
    const text = await answer.body.text();
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new WebHdfsError("WEBHDFS_PROTOCOL", `${what}: the answer is not JSON: ${text.slice(0, BODY_QUOTED_CHARS_MAX)}`, { cause: error });
    }
  }

  private async send(method: Method, url: string, what: string): Promise<Dispatcher.ResponseData> {
    try {
      return await request(url, { method, dispatcher: this.dispatcher });
    } catch (error) {
      throw unreachable(what, url, error);
    }
  }

  /** The error for an unexpected answer (its body is read and quoted). */
  private async failure(answer: Dispatcher.ResponseData, what: string): Promise<WebHdfsError> {
    return failure(answer.statusCode, await answer.body.text(), what);
  }
}

function unreachable(what: string, url: string, error: unknown): WebHdfsError {
  const reason = error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);
  return new WebHdfsError("WEBHDFS_UNREACHABLE", `${what}: no answer from ${new URL(url).host} (${reason})`, { cause: error });
}

function failure(status: number, body: string, what: string): WebHdfsError {
  const remote = parseRemoteException(body);
  if (status >= 200 && status < 400 && remote.exception === null) {
    return new WebHdfsError("WEBHDFS_PROTOCOL", `${what}: unexpected status ${status}`, { status });
  }
  const detail = remote.exception !== null ? `${remote.exception}: ${remote.message ?? ""}` : body.slice(0, BODY_QUOTED_CHARS_MAX);
  return new WebHdfsError(errorCodeForAnswer(status, remote.exception), `${what}: ${status} ${detail}`, { status, exception: remote.exception });
}

function fileStatus(value: unknown, path: string): FileStatus {
  const status = value as Partial<FileStatus> | undefined;
  if (typeof status?.pathSuffix !== "string" || (status.type !== "FILE" && status.type !== "DIRECTORY" && status.type !== "SYMLINK") || typeof status.length !== "number") {
    throw new WebHdfsError("WEBHDFS_PROTOCOL", `${path}: a FileStatus without pathSuffix, type and length`);
  }
  return { pathSuffix: status.pathSuffix, type: status.type, length: status.length };
}
