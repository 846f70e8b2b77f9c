/**
 * Benchmark data: mixed access-log and JSON lines (about half each), written
 * once to a cache directory and reused; and for the search bench, events as
 * parsers make them (SearchEventGenerator). Deterministic (seeded), so runs
 * compare.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, openSync, writeSync, closeSync, statSync, renameSync } from "node:fs";
import { join } from "node:path";
import { constants, zstdCompressSync } from "node:zlib";
import { eventId, type Event } from "../shared/event.ts";
import { seededRandom } from "../shared/random.ts";
import { encodePayload, rawSegment } from "../shared/wire/batch.ts";

const PATHS = ["/", "/index.html", "/api/v1/orders", "/api/v1/users/42", "/static/app.js", "/healthz", "/login", "/cart?id=1842"];
const AGENTS = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "curl/8.5.0", "kube-probe/1.31", "Go-http-client/2.0"];
const LEVELS = ["info", "info", "info", "warn", "error", "debug"];


export function mixedLine(next: () => number, sequence: number, jsonOnly = false): string {
  const pick = <T>(list: T[]): T => list[Math.floor(next() * list.length)] as T;
  const seconds = 1_764_000_000 + Math.floor(sequence / 1000);
  if (!jsonOnly && next() < 0.5) {
    const date = new Date(seconds * 1000);
    const stamp = `${String(date.getUTCDate()).padStart(2, "0")}/Nov/2026:${String(date.getUTCHours()).padStart(2, "0")}:${String(date.getUTCMinutes()).padStart(2, "0")}:${String(date.getUTCSeconds()).padStart(2, "0")} +0000`;
    return `10.${Math.floor(next() * 255)}.${Math.floor(next() * 255)}.${Math.floor(next() * 255)} - - [${stamp}] "GET ${pick(PATHS)} HTTP/1.1" ${pick([200, 200, 200, 301, 404, 500])} ${Math.floor(next() * 50000)} "-" "${pick(AGENTS)}"`;
  }
  return JSON.stringify({
    ts: new Date(seconds * 1000 + Math.floor(next() * 1000)).toISOString(),
    level: pick(LEVELS),
    message: `request ${sequence} handled`,
    route: pick(PATHS),
    status: pick([200, 201, 400, 500]),
    duration_ms: Math.floor(next() * 3000),
    trace_id: Math.floor(next() * 2 ** 52).toString(16),
  });
}

/** Files totalling about `bytes`, split over `files` files; created once, then reused. */
export function benchFiles(directory: string, bytes: number, files: number, kind: "mixed" | "json" = "mixed"): string[] {
  mkdirSync(directory, { recursive: true });
  const paths: string[] = [];
  const perFile = Math.ceil(bytes / files);
  for (let index = 0; index < files; index++) {
    const path = join(directory, `${kind}-${index}.log`);
    paths.push(path);
    if (existsSync(path) && statSync(path).size >= perFile) continue;
    const next = seededRandom(index + 1);
    const temp = `${path}.partial`;
    const fd = openSync(temp, "w");
    let written = 0;
    let sequence = 0;
    while (written < perFile) {
      let chunk = "";
      for (let n = 0; n < 2000; n++) {
        chunk += mixedLine(next, sequence++, kind === "json") + "\n";
      }
      written += writeSync(fd, chunk);
    }
    closeSync(fd);
    renameSync(temp, path);
  }
  return paths;
}

// ——— search bench: events as a collector's search sink receives them ———

const WEB_HOSTS = 12;
const APP_HOSTS = 8;
const SERVICES = ["checkout", "payments", "auth", "inventory"];
const DEPENDENCIES = ["payments-api", "inventory-api", "orders-db", "redis", "auth-api"];
const TABLES = ["orders", "users", "payments", "sessions"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** An event the search sink indexes, with the bytes of the log line it came from. */
export interface GeneratedEvent {
  event: Event;
  rawBytes: number;
  /** The key of its stream (wire header `streams[].key`): the event's id is this key's first 16 characters and its offset. */
  streamKey: string;
}

/**
 * Deterministic (seeded) events of a small fleet, as parsers turn lines into
 * events: web-1…web-12 write nginx access lines (message = the line; fields
 * as the nginx parser makes them: client, method, path, protocol, status,
 * bytes, user_agent), app-1…app-8 write JSON lines of four services
 * (message = the "message" key; fields: level, service, trace_id,
 * duration_ms). About 150 bytes of raw line per event. Each (host, file) is
 * a stream with its own byte offsets, so ids are as the wire makes them.
 */
export class SearchEventGenerator {
  private readonly next: () => number;
  private readonly streams = new Map<string, { key: string; offset: number }>();

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  /** The next event, at `timeMs` (ms since the epoch); `extraToken` is appended to its message (the needle of a needle query). */
  event(timeMs: number, extraToken?: string): GeneratedEvent {
    return this.next() < 0.6 ? this.accessEvent(timeMs, extraToken) : this.appEvent(timeMs, extraToken);
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)] as T;
  }

  private integer(below: number): number {
    return Math.floor(this.next() * below);
  }

  private accessEvent(timeMs: number, extraToken: string | undefined): GeneratedEvent {
    const host = `web-${1 + this.integer(WEB_HOSTS)}`;
    const client = `10.${this.integer(255)}.${this.integer(255)}.${this.integer(255)}`;
    const roll = this.next();
    const method = roll < 0.85 ? "GET" : roll < 0.97 ? "POST" : this.pick(["PUT", "DELETE"]);
    const id = 1000 + this.integer(90_000);
    const path = this.pick(["/", "/index.html", "/api/v1/orders", `/api/v1/orders/${id}`, `/api/v1/users/${id}`, "/static/app.js", "/static/app.css", "/healthz", "/login", `/cart?id=${id}`, "/search?q=shoes"]);
    const statusRoll = this.next();
    const status = statusRoll < 0.8 ? 200 : statusRoll < 0.86 ? this.pick([201, 301, 304]) : statusRoll < 0.96 ? this.pick([400, 401, 404]) : this.pick([500, 502, 503]);
    const bytes = this.integer(60_000);
    const userAgent = this.pick(AGENTS);
    const date = new Date(timeMs);
    const stamp = `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
    let message = `${client} - - [${stamp}] "${method} ${path} HTTP/1.1" ${status} ${bytes} "https://shop.example.com/" "${userAgent}"`;
    if (extraToken !== undefined) message += ` ${extraToken}`;
    const fields = { client, method, path, protocol: "HTTP/1.1", status, bytes, referer: "https://shop.example.com/", user_agent: userAgent };
    const rawBytes = Buffer.byteLength(message) + 1;
    return this.make(host, "nginx", "/var/log/nginx/access.log", timeMs, message, fields, rawBytes);
  }

  private appEvent(timeMs: number, extraToken: string | undefined): GeneratedEvent {
    const host = `app-${1 + this.integer(APP_HOSTS)}`;
    const service = this.pick(SERVICES);
    const roll = this.next();
    const level = roll < 0.7 ? "info" : roll < 0.85 ? "warn" : roll < 0.93 ? "error" : "debug";
    const durationMs = this.integer(3000);
    const id = 100_000 + this.integer(900_000);
    const user = 1000 + this.integer(50_000);
    let message: string;
    if (level === "info") {
      message = this.pick([`order ${id} placed by user ${user} total ${this.integer(500)}.${two(this.integer(100))} EUR`, `payment ${id} authorized in ${durationMs} ms`, `user ${user} logged in`, `cache miss for key user:${user}`, `request ${id} handled in ${durationMs} ms`]);
    } else if (level === "warn") {
      message = this.pick([`slow query on ${this.pick(TABLES)} took ${durationMs} ms`, `retrying call to ${this.pick(DEPENDENCIES)} after timeout (attempt ${1 + this.integer(3)})`]);
    } else if (level === "error") {
      message = this.pick([`connection reset by peer while calling ${this.pick(DEPENDENCIES)}`, `payment ${id} declined: insufficient funds`, `upstream ${this.pick(DEPENDENCIES)} returned 503 for request ${id}`]);
    } else {
      message = `token refreshed for session ${this.integer(2 ** 32).toString(16)}`;
    }
    if (extraToken !== undefined) message += ` ${extraToken}`;
    const traceId = this.integer(2 ** 32).toString(16).padStart(8, "0") + this.integer(2 ** 32).toString(16).padStart(8, "0");
    const fields = { level, service, trace_id: traceId, duration_ms: durationMs };
    const rawBytes = Buffer.byteLength(JSON.stringify({ ts: new Date(timeMs).toISOString(), message, ...fields })) + 1;
    return this.make(host, service, `/var/log/${service}/${service}.log`, timeMs, message, fields, rawBytes);
  }

  private make(host: string, source: string, path: string, timeMs: number, message: string, fields: Record<string, unknown>, rawBytes: number): GeneratedEvent {
    const streamName = `${host}\0${path}`;
    let stream = this.streams.get(streamName);
    if (stream === undefined) {
      stream = { key: createHash("sha256").update(streamName).digest("base64url").slice(0, 22), offset: 0 };
      this.streams.set(streamName, stream);
    }
    const offset = stream.offset;
    stream.offset += rawBytes;
    const time = new Date(timeMs).toISOString();
    const observed = new Date(timeMs + 100 + this.integer(400)).toISOString();
    const event: Event = { id: eventId(stream.key, offset), time, observed_time: observed, host, source, path, offset, message, fields };
    return { event, rawBytes, streamKey: stream.key };
  }
}

function two(value: number): string {
  return String(value).padStart(2, "0");
}

/** One agent batch made from file bytes: the compressed body, and what it holds. */
export interface RawBatch {
  body: Buffer;
  rawBytes: number;
  events: number;
  observedMs: number;
}

/**
 * `data` cut at line ends into ~1 MiB RAW batches of one stream, each
 * compressed once (zstd level 1) as an agent ships it; batch `seq` is
 * observed at `firstObservedMs + seq * observedStepMs`.
 */
export function rawBatches(data: Buffer, options: { host: string; firstObservedMs: number; observedStepMs: number }): RawBatch[] {
  const batches: RawBatch[] = [];
  let offset = 0;
  for (let seq = 0; offset < data.length; seq++) {
    let end = Math.min(data.length, offset + (1 << 20));
    end = data.lastIndexOf(0x0a, end - 1) + 1;
    if (end <= offset) break;
    const lines = data.subarray(offset, end);
    let events = 0;
    for (let index = lines.indexOf(0x0a); index !== -1; index = lines.indexOf(0x0a, index + 1)) events++;
    const observedMs = options.firstObservedMs + seq * options.observedStepMs;
    const payload = encodePayload(
      { agent: "bench-agent", host: options.host, seq, floor: 0, created_ms: observedMs, streams: [{ key: "bench-stream-key-00000", source: "bench", path: "/var/log/bench.log", fields: {} }] },
      [rawSegment(0, observedMs, offset, events, lines, false)],
    );
    batches.push({ body: zstdCompressSync(payload, { params: { [constants.ZSTD_c_compressionLevel]: 1 } }), rawBytes: lines.length, events, observedMs });
    offset = end;
  }
  return batches;
}
