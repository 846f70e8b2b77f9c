/**
 * GET /metrics on the agent's API after shipping a file to a real
 * collector in this process: lines and bytes read equal the file, events
 * sent and acknowledged equal its lines, nothing is left in the spool and
 * the checkpoint lag goes back to 0; a collector that refuses the token shows as rejects with
 * reason http_401. No series is labelled by file path.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestAgent } from "./testing/agent.ts";
import { INGEST_TOKEN, startTestCollector } from "../collector/testing/collector.ts";
import { scrapeUntil, sampleValue } from "../shared/testing/exposition.ts";

interface Shipping {
  apiUrl: string;
  fileBytes: number;
}

/** A collector, a log file of `lines` lines, and an agent shipping it with its API on a free port; stopped after the test. */
async function shipFile(t: { after: (fn: () => Promise<void>) => void }, lines: number, token: string): Promise<Shipping> {
  const directory = mkdtempSync(join(tmpdir(), "logship-agent-metrics-"));
  const collector = await startTestCollector({ dataDir: join(directory, "collector") });
  const file = join(directory, "app.log");
  const text = Array.from({ length: lines }, (_, index) => `line ${index} of the metrics test\n`).join("");
  writeFileSync(file, text);
  const agent = await startTestAgent({ data_dir: join(directory, "agent"), collectors: [collector.url], token, sources: [{ name: "app", paths: [file], start_at: "beginning" }] });
  t.after(async () => {
    await agent.stop();
    await collector.stop();
    rmSync(directory, { recursive: true, force: true });
  });
  return { apiUrl: agent.apiUrl, fileBytes: Buffer.byteLength(text) };
}

test("agent /metrics after shipping a file: lines and bytes read, events sent and acknowledged, batches, spool gauges, checkpoint lag back to 0", async (t) => {
  const lines = 250;
  const { apiUrl, fileBytes } = await shipFile(t, lines, INGEST_TOKEN);
  const metrics = await scrapeUntil(
    apiUrl,
    "every line acknowledged and out of the spool",
    (exposition) =>
      sampleValue(exposition, "logship_agent_acked_events_total") === lines &&
      sampleValue(exposition, "logship_agent_spool_batches") === 0 &&
      sampleValue(exposition, "logship_agent_checkpoint_lag_bytes") === 0,
  );
  const value = (series: string): number | undefined => sampleValue(metrics, series);
  assert.equal(value("logship_agent_lines_read_total"), lines);
  assert.equal(value("logship_agent_read_bytes_total"), fileBytes);
  assert.equal(value("logship_agent_sent_events_total"), lines, "no retries: each event sent once");
  assert.equal(value("logship_agent_acked_batches_total"), value("logship_agent_sent_batches_total"));
  assert.equal(value("logship_agent_acked_bytes_total"), value("logship_agent_sent_bytes_total"));
  // The batch histograms saw every batch (a batch closes after the block that crosses max_events, so how many depends on the reads).
  assert.ok((value("logship_agent_acked_batches_total") ?? 0) >= 1);
  assert.equal(value("logship_agent_batch_events_sum"), lines);
  assert.equal(value("logship_agent_batch_events_count"), value("logship_agent_acked_batches_total"));
  assert.equal(value("logship_agent_batch_ack_latency_seconds_count"), value("logship_agent_acked_batches_total"));
  // The spool's files stay until a segment fills and is fully acknowledged: the gauge is what /status says.
  const status = (await (await fetch(`${apiUrl}/status`)).json()) as { spool: { bytes: number; bytesMax: number } };
  assert.equal(value("logship_agent_spool_bytes"), status.spool.bytes);
  assert.equal(value("logship_agent_spool_limit_bytes"), 1024 ** 3);
  assert.equal(value('logship_agent_files{state="active"}'), 1);
  assert.equal(value("logship_agent_files_open"), 1);
  assert.equal(metrics.types.get("logship_agent_batch_ack_latency_seconds"), "histogram");
  assert.equal(metrics.types.get("logship_agent_spool_bytes"), "gauge");
  assert.ok((value("process_resident_memory_bytes") ?? 0) > 0);
  // Cardinality: the file's path is on no series.
  for (const series of metrics.samples.keys()) assert.doesNotMatch(series, /app\.log/);
});

test("agent /metrics: batches the collector refuses for good are rejects by reason http_<status>", async (t) => {
  const lines = 30;
  const { apiUrl } = await shipFile(t, lines, "not-a-token");
  const metrics = await scrapeUntil(apiUrl, "the batches rejected", (exposition) => sampleValue(exposition, 'logship_agent_rejected_events_total{reason="http_401"}') === lines);
  assert.ok((sampleValue(metrics, 'logship_agent_rejected_batches_total{reason="http_401"}') ?? 0) >= 1);
  assert.equal(sampleValue(metrics, "logship_agent_acked_events_total"), 0);
});
