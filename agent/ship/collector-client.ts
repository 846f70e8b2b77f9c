/**
 * One collector as the agent sees it: an undici keep-alive pool with bounded
 * connections, explicit connect and request timeouts, optional TLS (custom
 * CA, client certificate) and a bearer token. Turns each response into one
 * of three outcomes (STYLE.md): delivered, retry, reject.
 */
import { createPool, poolRequest, type Pool } from "../../shared/http/undici-pool.ts";
import { retryAfterMs } from "./backoff.ts";

export type SendOutcome =
  | { kind: "delivered"; duplicate: boolean }
  | { kind: "retry"; reason: string; afterMs?: number; collectorFault: boolean; /** The HTTP status, when the collector answered. */ status?: number; /** The answer was cut off (no status either). */ cutOff?: boolean }
  | { kind: "reject"; status: number; reason: string };

export interface CollectorClientOptions {
  url: string;
  token: string | undefined;
  connectionsMax: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined;
}

export class CollectorClient {
  readonly url: string;
  private readonly pool: Pool;
  private readonly options: CollectorClientOptions;

  constructor(options: CollectorClientOptions) {
    this.options = options;
    this.url = options.url.replace(/\/+$/, "");
    this.pool = createPool(this.url, {
      connections: options.connectionsMax,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { timeout: options.connectTimeoutMs, ...(options.tls ?? {}) },
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
    });
  }

  async sendBatch(body: Buffer, agent: string, seq: number, signal: AbortSignal): Promise<SendOutcome> {
    const headers: Record<string, string> = {
      "content-type": "application/vnd.logship.batch",
      "content-encoding": "zstd",
      "x-logship-agent": agent,
      "x-logship-seq": String(seq),
    };
    if (this.options.token !== undefined && this.options.token !== "") headers["authorization"] = `Bearer ${this.options.token}`;
    let response;
    try {
      response = await poolRequest(this.pool, { path: "/v1/ingest", method: "POST", headers, body, signal });
    } catch (error) {
      return { kind: "retry", reason: networkReason(error), collectorFault: true };
    }
    let text = "";
    try {
      text = await response.body.text();
    } catch (error) {
      return { kind: "retry", reason: `response cut off: ${networkReason(error)}`, collectorFault: true, cutOff: true };
    }
    const status = response.statusCode;
    const reason = reasonOf(text, status);
    if (status >= 200 && status < 300) return { kind: "delivered", duplicate: /"duplicate"\s*:\s*true/.test(text) };
    if (status === 408 || status === 429 || status >= 500) {
      const afterMs = status === 429 || status === 503 ? retryAfterMs(response.headers["retry-after"], Date.now()) : undefined;
      // 429 is the collector protecting itself, not failing: it does not count towards ejection.
      return { kind: "retry", reason, ...(afterMs === undefined ? {} : { afterMs }), collectorFault: status !== 429, status };
    }
    return { kind: "reject", status, reason };
  }

  /** Health probe for an ejected collector. */
  async probe(signal: AbortSignal): Promise<boolean> {
    try {
      const response = await poolRequest(this.pool, { path: "/readyz", method: "GET", signal });
      await response.body.dump();
      return response.statusCode === 200;
    } catch {
      // Any failure to answer is "not ready"; the caller backs off and probes again.
      return false;
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  async destroy(): Promise<void> {
    await this.pool.destroy();
  }
}

function reasonOf(text: string, status: number): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown; code?: unknown };
    if (typeof parsed.error === "string") return `${status} ${typeof parsed.code === "string" ? `${parsed.code}: ` : ""}${parsed.error}`;
  } catch {
    // Not JSON: use the raw text below.
  }
  return `${status} ${text.slice(0, 200)}`.trim();
}

function networkReason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" ? `${code}: ${message}` : message;
}
