/**
 * A small OpenSearch HTTP client over undici, shared by the opensearch sink
 * (bulk writes) and the opensearch search backend (queries): one keep-alive
 * pool to the cluster URL, basic or bearer auth, an extra trusted CA for
 * TLS, a per-request timeout, gzip request bodies.
 *
 * It sends one request and returns status and parsed body; it never
 * retries (the sink runner owns retries, a search fails fast). Failures to
 * get an answer at all (refused, reset, timed out, TLS) throw
 * OpenSearchError `LOGSHIP_OPENSEARCH_UNREACHABLE`; an answer of any status
 * is returned for the caller to judge.
 *
 * Request compression is gzip only: OpenSearch accepts `Content-Encoding:
 * gzip` bodies, and the 2.19 integration-test distribution crashed (a fatal
 * NoSuchMethodError in Netty's zstd decoder) on a zstd body, so zstd is
 * never sent (docs/SINKS.md, "opensearch").
 */
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { LogshipError } from "../../shared/errors.ts";
import { createPool, poolRequest, type Pool } from "../../shared/http/undici-pool.ts";

const gzipAsync = promisify(gzip);
/** gzip level of request bodies: 1 costs the collector a fifth of level 6's CPU for most of its saving on log text. */
const GZIP_LEVEL = 1;
/** An idle connection to the cluster is kept this long. */
const KEEP_ALIVE_MS = 30_000;
/** Response bodies read at most (a bulk answer of 5,000 items is ~0.5 MiB with filter_path). */
export const RESPONSE_BYTES_MAX = 64 * 1024 * 1024;

export type OpenSearchAuth = { kind: "basic"; user: string; password: string } | { kind: "bearer"; token: string };

export interface OpenSearchClientOptions {
  /** The cluster URL (http or https), possibly with a path prefix. */
  url: string;
  auth?: OpenSearchAuth;
  /** PEM of a CA trusted besides the system's (a private cluster CA). */
  caPem?: string;
  /** false: accept any server certificate (tests against throwaway certificates only). */
  verifyCertificate?: boolean;
  /** Each request (connect, headers, body) at most this long. */
  timeoutMs: number;
  /** Connections kept to the cluster at most. */
  connections: number;
}

export type OpenSearchErrorCode = "LOGSHIP_OPENSEARCH_UNREACHABLE" | "LOGSHIP_OPENSEARCH_RESPONSE";

export class OpenSearchError extends LogshipError {
  declare readonly code: OpenSearchErrorCode;
  /** The HTTP status, for LOGSHIP_OPENSEARCH_RESPONSE. */
  readonly status: number | undefined;

  constructor(code: OpenSearchErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(code, message, options);
    this.name = "OpenSearchError";
    this.status = options?.status;
  }
}

export interface OpenSearchResponse {
  status: number;
  /** The parsed JSON body (null when empty or not JSON: then `text` has it). */
  body: unknown;
  text: string;
  /** Retry-After in ms when the answer carried one. */
  retryAfterMs: number | undefined;
}

export interface RequestOptions {
  /** An object is sent as JSON; a string or Buffer as is (NDJSON for _bulk). */
  body?: unknown;
  contentType?: string;
  gzip?: boolean;
  signal?: AbortSignal;
}

export class OpenSearchClient {
  readonly url: string;
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly authorization: string | undefined;

  constructor(options: OpenSearchClientOptions) {
    const url = new URL(options.url);
    this.url = options.url;
    this.basePath = url.pathname.replace(/\/+$/, "");
    this.pool = createPool(url.origin, {
      connections: options.connections,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: options.timeoutMs,
      keepAliveTimeout: KEEP_ALIVE_MS,
      connect: { ...(options.caPem === undefined ? {} : { ca: options.caPem }), rejectUnauthorized: options.verifyCertificate !== false },
    });
    const auth = options.auth;
    this.authorization = auth === undefined ? undefined : auth.kind === "basic" ? `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}` : `Bearer ${auth.token}`;
  }

  async request(method: "GET" | "PUT" | "POST" | "DELETE" | "HEAD", path: string, options: RequestOptions = {}): Promise<OpenSearchResponse> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    let body: Buffer | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === "string" ? Buffer.from(options.body) : Buffer.isBuffer(options.body) ? options.body : Buffer.from(JSON.stringify(options.body));
      headers["content-type"] = options.contentType ?? "application/json";
      if (options.gzip === true) {
        body = await gzipAsync(body, { level: GZIP_LEVEL });
        headers["content-encoding"] = "gzip";
      }
    }
    let response;
    try {
      response = await poolRequest(this.pool, { method, path: this.basePath + path, headers, ...(body === undefined ? {} : { body }), ...(options.signal === undefined ? {} : { signal: options.signal }) });
    } catch (error) {
      options.signal?.throwIfAborted();
      throw new OpenSearchError("LOGSHIP_OPENSEARCH_UNREACHABLE", `OpenSearch ${this.url}: ${describeNetworkError(error)}`, { cause: error });
    }
    let text: string;
    try {
      text = await readText(response.body);
    } catch (error) {
      options.signal?.throwIfAborted();
      throw new OpenSearchError("LOGSHIP_OPENSEARCH_UNREACHABLE", `OpenSearch ${this.url}: the answer broke off: ${describeNetworkError(error)}`, { cause: error });
    }
    const retryAfter = response.headers["retry-after"];
    const seconds = typeof retryAfter === "string" ? Number(retryAfter) : Number.NaN;
    return { status: response.statusCode, body: parseJson(text), text, retryAfterMs: Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined };
  }

  /** `request`, throwing OpenSearchError LOGSHIP_OPENSEARCH_RESPONSE unless the status is 2xx (or one of `accepted`). */
  async expect(method: "GET" | "PUT" | "POST" | "DELETE", path: string, options: RequestOptions & { accepted?: readonly number[] } = {}): Promise<OpenSearchResponse> {
    const response = await this.request(method, path, options);
    if ((response.status >= 200 && response.status < 300) || options.accepted?.includes(response.status) === true) return response;
    throw new OpenSearchError("LOGSHIP_OPENSEARCH_RESPONSE", `OpenSearch ${method} ${path}: ${response.status} ${describeErrorBody(response)}`, { status: response.status });
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** The error of an OpenSearch answer in one line: its type and reason, else the start of its text. */
export function describeErrorBody(response: OpenSearchResponse): string {
  const error = (response.body as { error?: unknown } | null)?.error;
  if (typeof error === "object" && error !== null) {
    const { type, reason } = error as { type?: unknown; reason?: unknown };
    return `${String(type)}: ${String(reason)}`;
  }
  if (typeof error === "string") return error;
  return response.text.slice(0, 300).replace(/\s+/g, " ");
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `${typeof code === "string" ? `${code}: ` : ""}${error.message}${cause}`;
}

async function readText(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > RESPONSE_BYTES_MAX) throw new Error(`the answer is over ${RESPONSE_BYTES_MAX} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not JSON (a proxy's HTML page, a plain-text error): the caller reads `text`.
    return null;
  }
}
