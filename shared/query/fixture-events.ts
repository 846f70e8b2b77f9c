/**
 * Events the query tests run against: access logs, JSON app logs with nested
 * fields, Unicode text, numbers as numbers and as strings, arrays, a flat
 * dotted key, a truncated line, events with and without each field, two
 * events of a named collector stream (the rest in the default one). The
 * search index's tests can reuse it to check they agree with the evaluator.
 */
import type { Event } from "../event.ts";

function event(id: string, time: string, host: string, source: string, path: string, offset: number, message: string, fields: Record<string, unknown>): Event {
  return { id, time, observed_time: time, host, source, path, offset, message, fields };
}

const NGINX = "/var/log/nginx/access.log";
const APP = "/var/log/app/app.json";
const JOBS = "/srv/jobs/worker.log";

export const FIXTURE_EVENTS: readonly Event[] = [
  event("e01", "2026-11-29T09:59:58.120Z", "web-1", "nginx", NGINX, 0, '10.0.0.1 - - "GET /healthz HTTP/1.1" 200 2 "-" "curl/8.0"', { service: "web", status: 200, method: "GET", path: "/healthz" }),
  event("e02", "2026-11-29T10:00:00.000Z", "web-1", "nginx", NGINX, 96, '10.0.0.7 - - "POST /checkout HTTP/1.1" 500 512 "-" "Mozilla/5.0"', { service: "web", status: 500, method: "POST", bytes: 512 }),
  event("e03", "2026-11-29T10:00:01.500Z", "web-2", "nginx", NGINX, 0, '10.0.0.9 - - "GET /api/users?id=7 HTTP/1.1" 404 0 "-" "Mozilla/5.0"', { service: "web", status: 404, method: "GET" }),
  event("e04", "2026-11-29T10:00:02.000Z", "web-2", "nginx", NGINX, 180, "status=503 method=GET path=/api/orders upstream unavailable", { service: "web", status: "503", method: "GET" }),
  event("e05", "2026-11-29T10:05:00.000Z", "api-1", "app", APP, 0, "upstream timeout 1500ms while connecting to db-1", { service: "api", level: "error", duration_ms: 1500, http: { status: 504, method: "GET" } }),
  event("e06", "2026-11-29T10:05:01.000Z", "api-1", "app", APP, 120, "request completed in 35ms", { service: "api", level: "info", duration_ms: 35, http: { status: 200, method: "GET" } }),
  { ...event("e07", "2026-11-29T10:06:00.000Z", "api-2", "app", APP, 0, "Connection reset by peer", { service: "api", level: "ERROR" }), stream: "payments" },
  event("e08", "2026-11-29T10:07:00.000Z", "api-2", "app", APP, 64, "connection timeout after 30s", { service: "api", level: "warn", duration_ms: "30000" }),
  event("e09", "2026-11-28T23:59:59.999Z", "db-1", "postgres", "/var/log/postgresql/main.log", 4096, "checkpoint complete: wrote 1500 buffers", { level: "info" }),
  event("e10", "2026-11-29T00:00:00.000Z", "db-1", "postgres", "/var/log/postgresql/main.log", 8192, 'FATAL: password authentication failed for user "alice"', { level: "fatal", user: "alice" }),
  event("e11", "2026-11-29T11:00:00.000Z", "worker-1", "jobs", JOBS, 0, "Job 42 failed: Timeout 250ms exceeded", { level: "error", job_id: 42, tags: ["retry", "billing"] }),
  event("e12", "2026-11-29T11:00:05.000Z", "worker-1", "jobs", JOBS, 77, "Café crème commandé — naïve résumé", { level: "info", locale: "fr-FR" }),
  event("e13", "2026-11-29T11:00:06.000Z", "worker-1", "jobs", JOBS, 150, "日本語のログ メッセージ 123", { level: "info", locale: "ja-JP" }),
  event("e14", "2026-11-29T12:00:00.000Z", "web-1", "checkout", "/var/log/checkout.log", 0, "purchase ok order=A-1001 amount=19.99", { event: "purchase", amount: 19.99, user: "bob" }),
  { ...event("e15", "2026-11-29T12:00:10.000Z", "web-1", "checkout", "/var/log/checkout.log", 60, "top_up ok amount=5.00", { event: "top_up", amount: "5.00", user: "carol" }), stream: "payments" },
  event("e16", "2026-11-29T12:00:20.000Z", "web-2", "checkout", "/var/log/checkout.log", 0, "refund issued amount=19.99", { event: "refund", amount: 19.99 }),
  event("e17", "2026-11-29T12:30:00.000Z", "api-1", "app", APP, 300, "cache hit key=user:42", { service: "api", level: "debug" }),
  { ...event("e18", "2026-11-29T13:00:00.000Z", "web-3", "nginx", NGINX, 1_048_576, "x".repeat(64) + " very long line cut here", { service: "web" }), truncated: true },
  event("e19", "2026-11-29T13:30:00.000Z", "lb-1", "haproxy", "/var/log/haproxy.log", 0, "bad gateway from upstream", { "http.status": 502, service: "lb" }),
  event("e20", "2026-11-30T00:00:00.000Z", "web-1", "app", APP, 999, "AND OR NOT are words too; error-code E42 time-out", {}),
];
