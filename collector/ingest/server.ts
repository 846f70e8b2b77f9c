/**
 * The collector's HTTP server (node:http): `POST /v1/ingest`, `/healthz`,
 * `/readyz`, and the operator and search routes (`/v1/status`, replay,
 * `/v1/search`, `/v1/histogram`, …) and the web UI (`/`) handed to
 * `adminRoutes` (collector/admin/, collector/search/routes.ts,
 * collector/ui/routes.ts). docs/INGEST.md is the contract.
 *
 * An ingest request is admitted, or refused without reading its body, in
 * this order: shutting down (503), token (401/403), Content-Encoding (415),
 * declared Content-Length (413), `queue_max` requests already in processing
 * (429). Only admitted requests read their bodies. A refused request's body
 * is discarded after the answer is sent (so the client can read the
 * answer), up to `max_body_bytes` or LINGER_MS, then the connection is
 * closed.
 *
 * Shutdown (`close`): new connections are refused, idle keep-alive
 * connections closed, requests arriving on busy connections get 503; the
 * requests in processing finish and get their answers; then the server
 * resolves (or, after `shutdownTimeoutMs`, drops what is left).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../../shared/logger.ts";
import type { RouteHandler } from "../admin/routes.ts";
import type { TokenTable } from "./auth.ts";
import { readBody } from "./body.ts";
import { IngestError } from "./errors.ts";
import type { IngestMeter } from "./meter.ts";
import type { IngestOutcome, IngestService } from "./service.ts";

export interface ServerLimits {
  bodyBytesMax: number;
  queueMax: number;
  requestTimeoutMs: number;
}

export interface CollectorServerOptions {
  host: string;
  port: number;
  tokens: TokenTable;
  service: IngestService;
  limits: ServerLimits;
  /** /readyz answers 200 while this is true (the log is open and writable). */
  ready: () => boolean;
  shutdownTimeoutMs: number;
  logger: Logger;
  /** Counts every batch answered 200 (status: ingest rates and totals). */
  meter: IngestMeter;
  /** Routes beyond ingest and health (status, replay, search); asked before answering 404. */
  adminRoutes?: RouteHandler;
}

/** After refusing a request, its unread body is discarded for at most this long before the connection is closed. */
const LINGER_MS = 5000;
const RETRY_AFTER_SECONDS = 1;

export interface ServerStats {
  /** Ingest answers by status code. */
  responses: Record<string, number>;
  /** Refused ingest requests by status and error code (metrics). */
  rejects: { status: number; code: string; count: number }[];
  inFlight: number;
}

export class CollectorServer {
  readonly host: string;
  readonly port: number;
  private readonly server: Server;
  private readonly options: CollectorServerOptions;
  private inFlight = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private shuttingDown = false;
  private readonly responses: Record<string, number> = {};
  /** Refused ingest requests, keyed "<status> <code>" (codes are a fixed set: errors.ts). */
  private readonly rejects = new Map<string, { status: number; code: string; count: number }>();

  private constructor(server: Server, options: CollectorServerOptions) {
    this.server = server;
    this.options = options;
    const address = server.address() as AddressInfo;
    this.host = address.address;
    this.port = address.port;
  }

  static async start(options: CollectorServerOptions): Promise<CollectorServer> {
    const server = createServer({
      requestTimeout: options.limits.requestTimeoutMs,
      headersTimeout: Math.min(options.limits.requestTimeoutMs, 60_000),
      keepAliveTimeout: 5_000,
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const collector = new CollectorServer(server, options);
    server.on("request", (request: IncomingMessage, response: ServerResponse) => collector.route(request, response));
    return collector;
  }

  /** `http://host:port` of the listening socket. */
  get url(): string {
    return `http://${this.host.includes(":") ? `[${this.host}]` : this.host}:${this.port}`;
  }

  stats(): ServerStats {
    return { responses: { ...this.responses }, rejects: [...this.rejects.values()].map((reject) => ({ ...reject })), inFlight: this.inFlight };
  }

  /** Graceful stop: see the module comment. */
  async close(): Promise<void> {
    this.shuttingDown = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const drained = await this.waitIdle(this.options.shutdownTimeoutMs);
    if (!drained) this.options.logger.warn("shutdown deadline passed with ingest requests still in processing; dropping them", { in_flight: this.inFlight });
    this.server.closeAllConnections();
    await closed;
    await this.options.service.close();
  }

  private waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private route(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? "/").split("?", 1)[0];
    if (this.shuttingDown) response.setHeader("Connection", "close");
    if (path === "/v1/ingest") {
      if (request.method !== "POST") return this.refuseIngest(request, response, new IngestError("LOGSHIP_METHOD_NOT_ALLOWED", "use POST"), { Allow: "POST" });
      void this.ingest(request, response);
      return;
    }
    if (path === "/healthz" && (request.method === "GET" || request.method === "HEAD")) return sendJson(response, 200, { status: "ok" });
    if (path === "/readyz" && (request.method === "GET" || request.method === "HEAD")) {
      const ready = !this.shuttingDown && this.options.ready();
      return sendJson(response, ready ? 200 : 503, { status: ready ? "ready" : this.shuttingDown ? "shutting down" : "log not writable" });
    }
    if (this.options.adminRoutes?.(request, response, path ?? "/") === true) return;
    this.refuse(request, response, new IngestError("LOGSHIP_NOT_FOUND", `no route ${request.method ?? ""} ${path ?? ""}`));
  }

  private async ingest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let tenant: string;
    try {
      tenant = this.admit(request);
    } catch (error) {
      return this.refuseIngest(request, response, error as IngestError);
    }
    this.inFlight++;
    this.options.logger.debug("ingest admitted", { tenant, in_flight: this.inFlight });
    try {
      const body = await readBody(request, this.options.limits.bodyBytesMax);
      const outcome = await this.options.service.ingest(tenant, body);
      this.count(200);
      this.options.meter.record(tenant, { events: outcome.events, bytes: body.length, duplicate: outcome.kind === "duplicate" });
      // During shutdown the connection is not reused: the client goes elsewhere for its next batch.
      if (this.shuttingDown) response.setHeader("Connection", "close");
      sendJson(response, 200, outcomeJson(outcome));
    } catch (error) {
      if (this.shuttingDown) response.setHeader("Connection", "close");
      this.refuseIngest(request, response, this.asIngestError(error, tenant));
    } finally {
      // In processing until the answer is handed to the socket, so shutdown cannot cut it off.
      await responseDone(response);
      this.inFlight--;
      if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Checks that need no body; returns the tenant. Throws IngestError. */
  private admit(request: IncomingMessage): string {
    if (this.shuttingDown) throw new IngestError("LOGSHIP_SHUTTING_DOWN", "the collector is shutting down; retry (another collector)", { retryAfterSeconds: RETRY_AFTER_SECONDS });
    const principal = this.options.tokens.authorize(request.headers.authorization, ["ingest", "admin"]);
    const encoding = request.headers["content-encoding"]?.trim().toLowerCase();
    if (encoding !== "zstd") {
      throw new IngestError("LOGSHIP_INGEST_ENCODING", `Content-Encoding must be zstd; got ${encoding === undefined ? "none" : JSON.stringify(encoding)}`);
    }
    const declared = request.headers["content-length"];
    if (declared !== undefined && Number(declared) > this.options.limits.bodyBytesMax) {
      throw new IngestError("LOGSHIP_INGEST_BODY_TOO_LARGE", `Content-Length ${declared} is larger than ingest.max_body_bytes (${this.options.limits.bodyBytesMax} bytes)`);
    }
    if (this.inFlight >= this.options.limits.queueMax) {
      throw new IngestError("LOGSHIP_INGEST_OVERLOADED", `${this.inFlight} batches in processing (ingest.queue_max); retry later`, { retryAfterSeconds: RETRY_AFTER_SECONDS });
    }
    return principal.tenant;
  }

  private asIngestError(error: unknown, tenant: string): IngestError {
    if (error instanceof IngestError) {
      if (error.status >= 500) this.options.logger.warn("ingest failed", { tenant, code: error.code, error: error.message });
      else this.options.logger.debug("ingest refused", { tenant, code: error.code, error: error.message });
      return error;
    }
    this.options.logger.error("ingest failed unexpectedly", { tenant, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    return new IngestError("LOGSHIP_INTERNAL", "internal error; see the collector's log", { cause: error });
  }

  /** `refuse` for a request to /v1/ingest, counted by status and code. */
  private refuseIngest(request: IncomingMessage, response: ServerResponse, error: IngestError, headers: Record<string, string> = {}): void {
    const key = `${error.status} ${error.code}`;
    const reject = this.rejects.get(key);
    if (reject === undefined) this.rejects.set(key, { status: error.status, code: error.code, count: 1 });
    else reject.count++;
    this.refuse(request, response, error, headers);
  }

  /** Answers with the error; a body still unread is discarded afterwards, within limits. */
  private refuse(request: IncomingMessage, response: ServerResponse, error: IngestError, headers: Record<string, string> = {}): void {
    this.count(error.status);
    if (error.retryAfterSeconds !== undefined) headers["Retry-After"] = String(error.retryAfterSeconds);
    if (error.status === 401) headers["WWW-Authenticate"] = 'Bearer realm="logship"';
    if (response.headersSent || response.destroyed) return;
    response.once("finish", () => this.discardUnreadBody(request));
    sendJson(response, error.status, { error: error.message, code: error.code }, headers);
  }

  private discardUnreadBody(request: IncomingMessage): void {
    if (request.complete || request.socket.destroyed) return;
    // node:http dumps the rest of the body to keep the connection; bound that.
    let discarded = 0;
    const timer = setTimeout(() => request.socket.destroy(), LINGER_MS);
    timer.unref();
    request.on("data", (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > this.options.limits.bodyBytesMax) request.socket.destroy();
    });
    request.once("close", () => clearTimeout(timer));
    request.resume();
  }

  private count(status: number): void {
    this.responses[status] = (this.responses[status] ?? 0) + 1;
  }
}

function responseDone(response: ServerResponse): Promise<void> {
  if (response.writableFinished || response.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    response.once("finish", resolve);
    response.once("close", resolve);
  });
}

/** Answers with `body` as JSON (also used by the operator routes, collector/admin/). */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { ...headers, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}

/** The 200 answer's body (docs/INGEST.md); with routes, `streams` says where the events went. */
function outcomeJson(outcome: IngestOutcome): Record<string, unknown> {
  const json: Record<string, unknown> = outcome.kind === "duplicate" ? { duplicate: true } : {};
  if (outcome.kind === "stored" || outcome.offset !== null) json["offset"] = outcome.offset;
  json["events"] = outcome.events;
  if (outcome.streams !== undefined) {
    json["streams"] = Object.fromEntries(outcome.streams.map((stream) => [stream.stream, stream.duplicate ? { duplicate: true, offset: stream.offset, events: stream.events } : { offset: stream.offset, events: stream.events }]));
  }
  return json;
}
