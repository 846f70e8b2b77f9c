/**
 * The agent's local HTTP API (`api.listen`, loopback by default):
 * `GET /status` (JSON: files, spool, collectors), `GET /healthz` (alive),
 * `GET /readyz` (200 when at least one collector is taking batches),
 * `GET /metrics` (Prometheus text format, docs/METRICS.md; when given a registry).
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../shared/logger.ts";
import type { Registry } from "../shared/prom-client.ts";
import { sendMetrics } from "../shared/metrics.ts";
import type { AgentStatus } from "./agent.ts";

/**
 * Not `import { createServer } from "node:http"`: an ES import of node:http
 * reads every export to build the namespace, and three of them (WebSocket,
 * CloseEvent, MessageEvent) are getters that load and run Node's own copy
 * of undici (0.7 MB of source), which the agent never uses: megabytes of
 * an idle agent's RSS for nothing (its memory target is tight:
 * docs/ARCHITECTURE.md). getBuiltinModule returns the exports unread.
 */
const { createServer } = process.getBuiltinModule("node:http");

export async function startAgentApi(listen: string, status: () => AgentStatus, logger: Logger, metrics?: Registry): Promise<{ server: Server; address: string }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    const send = (code: number, body: unknown): void => {
      response.writeHead(code, { "content-type": "application/json" });
      response.end(JSON.stringify(body) + "\n");
    };
    if (request.method !== "GET") return send(405, { error: "method not allowed", code: "method_not_allowed" });
    if (path === "/status") return send(200, status());
    if (path === "/healthz") return send(200, { ok: true });
    if (path === "/metrics" && metrics !== undefined) {
      void sendMetrics(metrics, response);
      return;
    }
    if (path === "/readyz") {
      const ready = status().collectors.some((collector) => collector.healthy);
      return send(ready ? 200 : 503, { ready });
    }
    return send(404, { error: `no route ${path}`, code: "not_found" });
  });
  const separator = listen.lastIndexOf(":");
  const host = listen.slice(0, separator).replace(/^\[|\]$/g, "");
  const port = Number(listen.slice(separator + 1));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info("agent API listening", { address: url });
  return { server, address: url };
}
