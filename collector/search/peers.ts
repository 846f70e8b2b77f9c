/**
 * How a collector asks its `peers` (config) for their part of a search or a
 * histogram (cluster.ts): one GET to every peer at once, each answered
 * within `timeoutMs` or given up, never retried (the caller is a person or
 * a script waiting; the answer says which peers are missing instead).
 *
 * Every request carries `Logship-Scope: local`: the peer answers from its
 * own index and never asks its own peers, so a mesh where every collector
 * lists every other (or itself) costs one hop and cannot loop. It also
 * carries the caller's `Authorization` unchanged: each peer checks the token
 * and the tenant itself.
 *
 * Every answer of the search routes names the process that made it
 * (`Logship-Node`, random per start), so a coordinator can drop an answer
 * from itself or a second answer from one peer listed under two URLs (a
 * config shared by every collector lists the collector too): a histogram
 * would count those twice.
 *
 * Limits: at most PEER_CONNECTIONS_MAX connections per peer (keep-alive,
 * undici Pool; further requests queue in the pool), at most
 * PEER_ANSWER_BYTES_MAX bytes read from one answer (beyond: that peer
 * failed). The pools live as long as the collector: an idle socket is
 * closed after KEEP_ALIVE_MS and never keeps the process alive (undici
 * unrefs it), so a stopping collector has nothing to close here.
 */
import { formatDuration } from "../../shared/config/units.ts";
import { createPool, poolRequest, type Pool } from "../../shared/http/undici-pool.ts";

/** The header that keeps a request on one node (docs/SEARCH.md, "Cluster search"). */
export const SCOPE_HEADER = "logship-scope";
/** The header naming the process that answered. */
export const NODE_HEADER = "logship-node";

/** Connections to one peer at most. */
export const PEER_CONNECTIONS_MAX = 8;
/** Bytes of one peer's answer at most (a page of 10,000 large events fits). */
export const PEER_ANSWER_BYTES_MAX = 256 * 1024 * 1024;
/** An idle connection to a peer is closed after this long. */
const KEEP_ALIVE_MS = 30_000;
/** Characters of a peer's refusal quoted in a reason at most. */
const REASON_CHARS_MAX = 300;

/** Why a peer is missing from an answer: stable codes (docs/SEARCH.md). */
export type PeerFailureCode = "LOGSHIP_PEER_TIMEOUT" | "LOGSHIP_PEER_UNREACHABLE" | "LOGSHIP_PEER_REFUSED" | "LOGSHIP_PEER_ANSWER";

export interface PeerFailure {
  /** The peer's URL as configured. */
  peer: string;
  code: PeerFailureCode;
  reason: string;
}

export type PeerAnswer = { peer: string; ok: true; json: unknown; node: string | undefined } | ({ ok: false } & PeerFailure);

export interface PeerClientOptions {
  /** http(s) URLs of the peers, as configured (a path prefix is kept). */
  peers: readonly string[];
  /** Each request's whole exchange, answer read included, at most this long. */
  timeoutMs: number;
  /** Bytes of one answer at most (default PEER_ANSWER_BYTES_MAX). */
  answerBytesMax?: number;
}

export class PeerClient {
  readonly peers: readonly string[];
  readonly #timeoutMs: number;
  readonly #answerBytesMax: number;
  readonly #pools = new Map<string, Pool>();

  constructor(options: PeerClientOptions) {
    this.peers = options.peers;
    this.#timeoutMs = options.timeoutMs;
    this.#answerBytesMax = options.answerBytesMax ?? PEER_ANSWER_BYTES_MAX;
  }

  /** `GET <peer><path>` on every peer at once; every answer or failure, in the order of `peers`. Never rejects. */
  getAll(path: string, authorization: string | undefined): Promise<PeerAnswer[]> {
    return Promise.all(this.peers.map((peer) => this.#get(peer, path, authorization)));
  }

  async #get(peer: string, path: string, authorization: string | undefined): Promise<PeerAnswer> {
    const url = new URL(peer);
    const headers: Record<string, string> = { accept: "application/json", [SCOPE_HEADER]: "local" };
    if (authorization !== undefined) headers["authorization"] = authorization;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    try {
      const response = await poolRequest(this.#pool(url.origin), { method: "GET", path: `${url.pathname.replace(/\/+$/, "")}${path}`, headers, signal: controller.signal });
      const body = await readBounded(response.body, this.#answerBytesMax);
      if (body === undefined) return { peer, ok: false, code: "LOGSHIP_PEER_ANSWER", reason: `answered more than ${this.#answerBytesMax} bytes` };
      const text = body.toString("utf8");
      if (response.statusCode !== 200) return { peer, ok: false, code: "LOGSHIP_PEER_REFUSED", reason: refusalReason(response.statusCode, text) };
      const node = response.headers[NODE_HEADER];
      try {
        return { peer, ok: true, json: JSON.parse(text), node: typeof node === "string" ? node : undefined };
      } catch {
        return { peer, ok: false, code: "LOGSHIP_PEER_ANSWER", reason: "answered 200 with a body that is not JSON" };
      }
    } catch (error) {
      if (timedOut) return { peer, ok: false, code: "LOGSHIP_PEER_TIMEOUT", reason: `no answer within ${formatDuration(this.#timeoutMs)}` };
      return { peer, ok: false, code: "LOGSHIP_PEER_UNREACHABLE", reason: `no answer: ${(error as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  }

  #pool(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      pool = createPool(origin, { connections: PEER_CONNECTIONS_MAX, keepAliveTimeout: KEEP_ALIVE_MS, headersTimeout: this.#timeoutMs, bodyTimeout: this.#timeoutMs });
      this.#pools.set(origin, pool);
    }
    return pool;
  }
}

/** The whole body, or undefined (and the body destroyed) past `bytesMax`. */
async function readBounded(body: AsyncIterable<Buffer> & { destroy(): unknown }, bytesMax: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > bytesMax) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** `answered 401 LOGSHIP_AUTH_INVALID: unknown token`, from a peer's `{"error", "code"}` (or the start of another body). */
function refusalReason(status: number, text: string): string {
  let reason = text;
  try {
    const parsed = JSON.parse(text) as { error?: unknown; code?: unknown };
    if (typeof parsed.error === "string") reason = typeof parsed.code === "string" ? `${parsed.code}: ${parsed.error}` : parsed.error;
  } catch {
    // Not JSON (a proxy's page): its start is the reason.
  }
  return `answered ${status} ${reason.slice(0, REASON_CHARS_MAX)}`.trimEnd();
}
