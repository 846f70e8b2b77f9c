/**
 * The collector's operator routes, served beside ingest (server.ts hands
 * them every request it does not route itself). docs/SINKS.md is the
 * contract:
 *
 *   GET  /v1/status               role admin: every tenant; role search: its own tenant (status.ts, kafka-status.ts)
 *   POST /v1/sinks/<name>/replay  role admin only; body {"tenant", "from_offset" | "from_offsets" | "from_time_ms"}
 *
 * Ingest tokens may use neither: they sit on every agent host. Errors are
 * `{"error", "code"}` as on ingest. With the embedded log a replay answers
 * once the runner has applied it and the new offset is durable; with the
 * Kafka log once the replay runner is started (docs/KAFKA.md). The log
 * backend supplies both answers (`status`, `replay`).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../shared/logger.ts";
import type { TokenTable } from "../ingest/auth.ts";
import { readBody } from "../ingest/body.ts";
import { IngestError } from "../ingest/errors.ts";
import { sendJson } from "../ingest/server.ts";
import { ReplayError } from "../sinks/replay-error.ts";
import type { ReplayRequest, ReplayResult } from "../sinks/fanout.ts";

/** Answers and returns true for a path it serves; false leaves the request to the caller. */
export type RouteHandler = (request: IncomingMessage, response: ServerResponse, path: string) => boolean;

/** Who asks for the status: `tenant` null for an admin (every tenant), else the search token's tenant. */
export interface StatusPrincipal {
  role: string;
  tenant: string | null;
}

export interface AdminRoutesOptions {
  tokens: TokenTable;
  /** The JSON body of GET /v1/status (status.ts for the embedded log, kafka-status.ts for Kafka). */
  status: (principal: StatusPrincipal) => Promise<unknown>;
  /** Applies a replay; resolves with the JSON body of the answer (replayResultJson for the embedded log). Rejects with ReplayError. */
  replay: (request: ReplayRequest) => Promise<unknown>;
  logger: Logger;
}

/** Routes tried in turn until one serves the path. */
export function eitherRoute(...handlers: RouteHandler[]): RouteHandler {
  return (request, response, path) => handlers.some((handler) => handler(request, response, path));
}

/** A replay request is a few fields; anything larger is not one. */
const REPLAY_BODY_BYTES_MAX = 64 * 1024;
const REPLAY_PATH = /^\/v1\/sinks\/([^/]+)\/replay$/;

export function adminRoutes(options: AdminRoutesOptions): RouteHandler {
  return (request, response, path) => {
    if (path === "/v1/status") {
      void answer(response, options.logger, () => status(request, options));
      return true;
    }
    const replayPath = REPLAY_PATH.exec(path);
    if (replayPath !== null) {
      void answer(response, options.logger, () => replay(request, decodeURIComponent(replayPath[1] as string), options));
      return true;
    }
    return false;
  };
}

async function status(request: IncomingMessage, options: AdminRoutesOptions): Promise<unknown> {
  if (request.method !== "GET" && request.method !== "HEAD") throw new MethodNotAllowed("GET");
  const principal = options.tokens.authorize(request.headers.authorization, ["admin", "search"]);
  return options.status({ role: principal.role, tenant: principal.role === "admin" ? null : principal.tenant });
}

async function replay(request: IncomingMessage, sink: string, options: AdminRoutesOptions): Promise<unknown> {
  if (request.method !== "POST") throw new MethodNotAllowed("POST");
  options.tokens.authorize(request.headers.authorization, ["admin"]);
  return options.replay({ sink, ...(await readReplayBody(request)) });
}

/** The answer to a replay of the embedded log (docs/SINKS.md, "Replay"). */
export function replayResultJson(result: ReplayResult): Record<string, unknown> {
  return {
    sink: result.sink,
    tenant: result.tenant,
    from_offset: result.fromOffset,
    previous_offset: result.previousOffset,
    committed_offset: result.committedOffset,
    end_offset: result.endOffset,
    replayed_events: result.replayedEvents,
  };
}

/**
 * `{"tenant"?: string, "from_offset": n}`, `{"tenant"?: string, "from_time_ms": n}`
 * or, for the Kafka log, `{"tenant"?: string, "from_offsets": {"<partition>": n, …}}`;
 * tenant defaults to "default".
 */
async function readReplayBody(request: IncomingMessage): Promise<Omit<ReplayRequest, "sink">> {
  let body: Buffer;
  try {
    body = await readBody(request, REPLAY_BODY_BYTES_MAX);
  } catch (error) {
    throw new ReplayError("LOGSHIP_REPLAY_REQUEST", `cannot read the replay request: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new ReplayError("LOGSHIP_REPLAY_REQUEST", 'the replay request must be JSON: {"tenant": "default", "from_offset": 0}, {"from_offsets": {"0": 120}} or {"from_time_ms": ...}');
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new ReplayError("LOGSHIP_REPLAY_REQUEST", "the replay request must be a JSON object");
  const fields = parsed as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !["tenant", "from_offset", "from_offsets", "from_time_ms"].includes(key));
  if (unknown.length > 0) throw new ReplayError("LOGSHIP_REPLAY_REQUEST", `unknown field ${JSON.stringify(unknown[0])} (expected tenant, from_offset, from_offsets or from_time_ms)`);
  const tenant = fields["tenant"] ?? "default";
  if (typeof tenant !== "string" || tenant === "") throw new ReplayError("LOGSHIP_REPLAY_REQUEST", "tenant must be a non-empty string");
  const offset = fields["from_offset"];
  const offsets = fields["from_offsets"];
  const timeMs = fields["from_time_ms"];
  if ([offset, offsets, timeMs].filter((value) => value !== undefined).length !== 1) throw new ReplayError("LOGSHIP_REPLAY_REQUEST", "give exactly one of from_offset, from_offsets and from_time_ms");
  if (offsets !== undefined) return { tenant, from: { partitionOffsets: readPartitionOffsets(offsets) } };
  if (offset !== undefined) {
    if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new ReplayError("LOGSHIP_REPLAY_REQUEST", `from_offset must be a whole number ≥ 0, got ${JSON.stringify(offset)}`);
    return { tenant, from: { offset: offset as number } };
  }
  if (!Number.isSafeInteger(timeMs)) throw new ReplayError("LOGSHIP_REPLAY_REQUEST", `from_time_ms must be milliseconds since the epoch, got ${JSON.stringify(timeMs)}`);
  return { tenant, from: { timeMs: timeMs as number } };
}

/** Partitions this many at most in `from_offsets` (Kafka allows far fewer per topic in practice). */
const REPLAY_PARTITIONS_MAX = 10_000;

/** `{"<partition>": offset, …}`: at least one, partitions and offsets whole numbers ≥ 0. */
function readPartitionOffsets(value: unknown): Map<number, number> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new ReplayError("LOGSHIP_REPLAY_REQUEST", 'from_offsets must be an object of partition → offset, e.g. {"0": 120, "3": 0}');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0 || entries.length > REPLAY_PARTITIONS_MAX) throw new ReplayError("LOGSHIP_REPLAY_REQUEST", `from_offsets must name 1 to ${REPLAY_PARTITIONS_MAX} partitions`);
  const offsets = new Map<number, number>();
  for (const [partition, offset] of entries) {
    if (!/^\d+$/.test(partition) || !Number.isSafeInteger(Number(partition))) throw new ReplayError("LOGSHIP_REPLAY_REQUEST", `from_offsets: ${JSON.stringify(partition)} is not a partition number`);
    if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new ReplayError("LOGSHIP_REPLAY_REQUEST", `from_offsets: the offset of partition ${partition} must be a whole number ≥ 0, got ${JSON.stringify(offset)}`);
    offsets.set(Number(partition), offset as number);
  }
  return offsets;
}

/** A route asked with a method it does not serve: 405 with `Allow`. */
export class MethodNotAllowed extends Error {
  readonly allow: string;
  constructor(allow: string) {
    super(`use ${allow}`);
    this.allow = allow;
  }
}

async function answer(response: ServerResponse, logger: Logger, handle: () => Promise<unknown>): Promise<void> {
  try {
    sendJson(response, 200, await handle());
  } catch (error) {
    sendError(response, logger, error);
  }
}

/**
 * The JSON answer `{"error", "code"}` of a failed operator or search
 * request: auth and replay refusals with their status, 405 with `Allow`,
 * anything else 500 (logged).
 */
export function sendError(response: ServerResponse, logger: Logger, error: unknown): void {
  if (response.headersSent || response.destroyed) return;
  if (error instanceof IngestError || error instanceof ReplayError) {
    sendJson(response, error.status, { error: error.message, code: error.code }, error.status === 401 ? { "WWW-Authenticate": 'Bearer realm="logship"' } : {});
  } else if (error instanceof MethodNotAllowed) {
    sendJson(response, 405, { error: error.message, code: "LOGSHIP_METHOD_NOT_ALLOWED" }, { Allow: error.allow });
  } else {
    logger.error("operator or search request failed unexpectedly", { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    sendJson(response, 500, { error: "internal error; see the collector's log", code: "LOGSHIP_INTERNAL" });
  }
}
