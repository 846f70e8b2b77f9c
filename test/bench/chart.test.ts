import { test } from "node:test";
import assert from "node:assert/strict";
import { chartBars, pageRows, renderChart } from "../../bench/chart.ts";

const PAGE = `# Benchmarks

## delivery.bench.ts

| bench | case | mb_per_s | agent_peak_rss_mb | zstd_strategy | agent_node_options | transforms | files | agent_rss_mb |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
| delivery | ship | 154.81 | 103.79 | greedy | shipped | none |  |  |
| delivery | ship | 38.95 | 180.51 | greedy | shipped | drop+redact+set |  |  |
| delivery | idle_files |  |  |  |  |  | 1000 | 91.3 |

## spool-memory.bench.ts

| bench | agent_idle_rss_mb | agent_peak_rss_mb | limit_rss_mb |
| --- | --- | --- | --- |
| spool_memory | 76 | 103 | 120 |
`;

test("the chart reads the page's tables: a throughput bar per case with MB/s, a memory bar per RSS column (not limits), labelled by what tells cases apart", () => {
  assert.equal(pageRows(PAGE).length, 4);
  const { throughput, memory } = chartBars(pageRows(PAGE));
  assert.deepEqual(throughput, [
    { label: "delivery ship greedy", value: 154.81 },
    { label: "delivery ship greedy drop+redact+set", value: 38.95 },
  ]);
  assert.deepEqual(memory, [
    { label: "delivery ship greedy — agent peak", value: 103.79 },
    { label: "delivery ship greedy drop+redact+set — agent peak", value: 180.51 },
    { label: "delivery idle_files 1000 files — agent", value: 91.3 },
    { label: "spool_memory — agent idle", value: 76 },
    { label: "spool_memory — agent peak", value: 103 },
  ]);
  const svg = renderChart(PAGE);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.match(/<rect x=/g) ?? []).length, 7);
  assert.match(svg, />delivery ship greedy drop\+redact\+set<\/text>/);
});

test("the side-by-side rows are labelled by shipper and round; the skipped row and the ratio row draw no bar", () => {
  const page = `## fluentbit.bench.ts

| bench | case | shipper | round | mb_per_s | shipper_peak_rss_mb | skipped | mb_per_s_ratio | peak_rss_ratio |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
| fluentbit | ship | fluent-bit | 1 | 119.5 | 80.2 |  |  |  |
| fluentbit | ship | logship | 1 | 150.1 | 95.4 |  |  |  |
| fluentbit | ship | fluent-bit |  |  |  | not built |  |  |
| fluentbit | logship_vs_fluent_bit |  |  |  |  |  | 1.26 | 1.19 |
`;
  const { throughput, memory } = chartBars(pageRows(page));
  assert.deepEqual(throughput, [
    { label: "fluentbit ship fluent-bit round 1", value: 119.5 },
    { label: "fluentbit ship logship round 1", value: 150.1 },
  ]);
  assert.deepEqual(memory, [
    { label: "fluentbit ship fluent-bit round 1 — shipper peak", value: 80.2 },
    { label: "fluentbit ship logship round 1 — shipper peak", value: 95.4 },
  ]);
});
