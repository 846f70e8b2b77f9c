/**
 * Test helpers for the search API routes over an index the test writes
 * directly: a node:http server with `searchRoutes` only, its tokens, events
 * made to order, and an SSE client that keeps everything it received.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import type { Event } from "../../shared/event.ts";
import { SseParser, type SseDispatch } from "../../shared/http/sse.ts";
import type { Logger } from "../../shared/logger.ts";
import { TokenTable } from "../ingest/auth.ts";
import { searchRoutes } from "../search/routes.ts";
import { SearchIndex } from "../search/search-index.ts";
import type { TailLimits } from "../search/tail.ts";

export const TOKENS = {
  a: "token-tenant-a",
  b: "token-tenant-b",
  admin: "token-admin",
  ingest: "token-ingest",
};

export interface RouteServer {
  url: string;
  index: SearchIndex;
  close(): Promise<void>;
}

export function temporaryDirectory(t: { after: (fn: () => unknown) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-search-routes-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** A server with the search routes over an index in `directory` (tenants a and b, an admin of tenant a). */
export async function startRouteServer(directory: string, logger: Logger, tail: Partial<TailLimits> = {}): Promise<RouteServer> {
  const index = new SearchIndex({ directory });
  const tokens = new TokenTable([
    { token: TOKENS.a, tenant: "a", role: "search" },
    { token: TOKENS.b, tenant: "b", role: "search" },
    { token: TOKENS.admin, tenant: "a", role: "admin" },
    { token: TOKENS.ingest, tenant: "a", role: "ingest" },
  ]);
  const routes = searchRoutes({ tokens, index, logger, tail });
  const server: Server = createServer((incoming, response) => {
    if (!routes(incoming, response, (incoming.url ?? "/").split("?", 1)[0] ?? "/")) response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    index,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await index.close();
    },
  };
}

/** An event of file `path` on `host` at line `line` (offset 100 per line), at `time`. */
export function lineEvent(options: { stream?: string; host?: string; path?: string; line: number; time: string; message?: string }): Event {
  const stream = options.stream ?? "streamAAAAAAAAAA";
  return {
    id: `${stream}${(options.line * 100).toString(36)}`,
    time: options.time,
    observed_time: options.time,
    host: options.host ?? "web-1",
    source: "app",
    path: options.path ?? "/var/log/app.log",
    offset: options.line * 100,
    message: options.message ?? `line ${options.line}`,
    fields: {},
  };
}

export interface TailClient {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Every message dispatched so far. */
  received: SseDispatch[];
  /** The raw text so far. */
  text(): string;
  /** The events (messages with data) so far, with their ids. */
  events(): { id: string; event: Event }[];
  /** Waits until `condition` holds on what was received (deadline: test synchronisation, not timing). */
  until(condition: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  ended(): boolean;
  close(): void;
}

/** Opens `GET path` as an event stream; an answer that is not 200 is read whole into `text`. */
export async function openTail(url: string, path: string, token: string | undefined, headers: Record<string, string> = {}): Promise<TailClient> {
  const controller = new AbortController();
  const all: Record<string, string> = { accept: "text/event-stream", ...headers };
  if (token !== undefined) all["authorization"] = `Bearer ${token}`;
  const response = await request(`${url}${path}`, { headers: all, signal: controller.signal });
  const parser = new SseParser(1 << 24);
  const decoder = new TextDecoder();
  const received: SseDispatch[] = [];
  let text = "";
  let ended = false;
  void (async () => {
    try {
      for await (const chunk of response.body) {
        const part = decoder.decode(chunk as Buffer, { stream: true });
        text += part;
        received.push(...parser.push(part));
      }
    } catch (error) {
      if (!controller.signal.aborted) text += `\n[stream error: ${(error as Error).message}]`;
    } finally {
      ended = true;
    }
  })();
  const client: TailClient = {
    status: response.statusCode,
    headers: response.headers,
    received,
    text: () => text,
    events: () => received.filter((message) => message.data !== null).map((message) => ({ id: message.lastEventId, event: JSON.parse(message.data as string) as Event })),
    async until(condition, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received so far:\n${text.slice(-2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    ended: () => ended,
    close: () => controller.abort(),
  };
  return client;
}
