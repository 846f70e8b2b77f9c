/**
 * Transforms in a running agent shipping to a real collector in this
 * process: the collector holds only the events that pass, changed as the
 * steps changed them (static fields included: a source whose steps write
 * fields ships each event's whole fields; one whose chain ends in
 * stream-constant sets ships them once per stream), and /status and
 * /metrics count what the steps dropped and redacted, labelled by source
 * and step.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestAgent } from "../testing/agent.ts";
import type { TransformStatus } from "../agent.ts";
import { INGEST_TOKEN, SEARCH_TOKEN, startTestCollector } from "../../collector/testing/collector.ts";
import type { Event } from "../../shared/event.ts";
import { scrapeUntil, sampleValue } from "../../shared/testing/exposition.ts";

test("an agent with drop, redact, set and remove ships only the kept events, transformed, and counts the rest", async (t) => {
  const lines = [
    "GET /healthz 200",
    "login by alice@example.com",
    "debug: cache warm",
    "GET /healthz 200",
    "paid 4111 1111 1111 1111 by bob@example.com",
  ];
  const { collector, agent } = await shipFile(t, lines.map((line) => `${line}\n`).join(""), {
    fields: { service: "shop", team: "payments" },
    transforms: [{ drop: "healthz OR debug" }, { redact: { patterns: ["email", "credit_card"] } }, { set: { "fields.origin": "{fields.service}@{host}" } }, { remove: ["fields.team"] }],
  });
  const apiUrl = agent.apiUrl;

  const metrics = await scrapeUntil(apiUrl, "the kept events acknowledged", (exposition) => sampleValue(exposition, "logship_agent_acked_events_total") === 2);
  assert.equal(sampleValue(metrics, 'logship_agent_transform_dropped_events_total{source="app",step="0_drop"}'), 3);
  assert.equal(sampleValue(metrics, 'logship_agent_transform_redactions_total{source="app",step="1_redact"}'), 3);
  assert.equal(sampleValue(metrics, 'logship_agent_transform_redacted_events_total{source="app",step="1_redact"}'), 2);
  assert.equal(sampleValue(metrics, "logship_agent_lines_read_total"), 5);
  const status = (await (await fetch(`${apiUrl}/status`)).json()) as { transforms: TransformStatus[] };
  assert.deepEqual(status.transforms, [
    { source: "app", step: "0_drop", dropped_events: 3, redactions: 0, redacted_events: 0, parse_failures: 0 },
    { source: "app", step: "1_redact", dropped_events: 0, redactions: 3, redacted_events: 2, parse_failures: 0 },
    { source: "app", step: "2_set", dropped_events: 0, redactions: 0, redacted_events: 0, parse_failures: 0 },
    { source: "app", step: "3_remove", dropped_events: 0, redactions: 0, redacted_events: 0, parse_failures: 0 },
  ]);

  const events = await storedEvents(collector.url, 2);
  assert.deepEqual(
    events.sort((a, b) => a.offset - b.offset).map((event) => [event.offset, event.message, event.fields]),
    [
      [17, "login by [REDACTED:email]", { service: "shop", origin: "shop@web-7" }],
      [79, "paid [REDACTED:credit_card] by [REDACTED:email]", { service: "shop", origin: "shop@web-7" }],
    ],
  );
});

test("a chain ending in stream-constant sets: stored events have them over parsed and static fields, as if each event had been set", async (t) => {
  const lines = [{ message: "ok", level: "info", env: "local" }, { message: "noise", level: "debug" }, { message: "paid by bob@example.com", level: "warn", origin: "parsed" }];
  const { collector } = await shipFile(t, lines.map((line) => `${JSON.stringify(line)}\n`).join(""), {
    parser: { type: "json" },
    fields: { service: "shop", env: "dev" },
    transforms: [{ drop: "fields.level:debug" }, { redact: { patterns: ["email"] } }, { set: { "fields.env": "prod", "fields.origin": "{host}/{source}" } }],
  });
  const events = await storedEvents(collector.url, 2);
  assert.deepEqual(
    events.sort((a, b) => a.offset - b.offset).map((event) => [event.message, event.fields]),
    [
      ["ok", { level: "info", env: "prod", service: "shop", origin: "web-7/app" }],
      ["paid by [REDACTED:email]", { level: "warn", origin: "web-7/app", service: "shop", env: "prod" }],
    ],
  );
});

/** A collector and an agent (host web-7) shipping `text` from the start of one file through a source named app with `rule`; both stopped after the test. */
async function shipFile(t: TestContext, text: string, rule: Record<string, unknown>) {
  const directory = mkdtempSync(join(tmpdir(), "logship-agent-transforms-"));
  const collector = await startTestCollector({ dataDir: join(directory, "collector") });
  const file = join(directory, "app.log");
  writeFileSync(file, text);
  const agent = await startTestAgent({
    data_dir: join(directory, "agent"),
    host: "web-7",
    collectors: [collector.url],
    token: INGEST_TOKEN,
    sources: [{ name: "app", paths: [file], start_at: "beginning", ...rule }],
  });
  t.after(async () => {
    await agent.stop();
    await collector.stop();
    rmSync(directory, { recursive: true, force: true });
  });
  return { collector, agent };
}

/** The collector's events once it holds `count` of them (searched until then, for at most 10 s). */
async function storedEvents(collectorUrl: string, count: number): Promise<Event[]> {
  let events: Event[] = [];
  const searchDeadline = Date.now() + 10_000;
  while (events.length < count && Date.now() < searchDeadline) {
    const response = await fetch(`${collectorUrl}/v1/search?limit=100&order=asc`, { headers: { authorization: `Bearer ${SEARCH_TOKEN}` } });
    events = ((await response.json()) as { events: Event[] }).events;
    if (events.length < count) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return events;
}
