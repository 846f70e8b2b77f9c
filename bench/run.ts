/**
 * `npm run bench`: runs every bench/*.bench.ts, collects the JSON objects
 * each prints (one per line), and rewrites docs/BENCHMARKS.md with the
 * machine, the date and the results, beside the targets of the issues, and
 * docs/benchmarks.svg, a chart of every case's throughput and peak memory
 * (bench/chart.ts), which the page shows.
 *
 *   npm run bench [-- --only tail]
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { renderChart } from "./chart.ts";

/** 1-minute load average before and after: other work on the machine skews the numbers, so the page says how busy it was. */
const loadAtStart = loadavg()[0] ?? 0;

const { values } = parseArgs({ options: { only: { type: "string" } } });
const benchDirectory = import.meta.dirname;
const files = readdirSync(benchDirectory)
  .filter((name) => name.endsWith(".bench.ts"))
  .filter((name) => values.only === undefined || name.startsWith(values.only))
  .sort();

const results = new Map<string, Record<string, unknown>[]>();
for (const file of files) {
  process.stderr.write(`bench: ${file}\n`);
  const stdout = execFileSync(process.execPath, [join(benchDirectory, file)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 26 });
  const rows = stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  results.set(file, rows);
  for (const row of rows) process.stdout.write(JSON.stringify(row) + "\n");
}

const TARGETS: Record<string, string> = {
  "tail.bench.ts": "issue 2: parser none ≥ 300 MB/s, json ≥ 100 MB/s, peak RSS < 100 MB (1 GiB of mixed access/JSON lines); issue 11: transforms (drop + redact + set) ≥ 60 % of none",
  "delivery.bench.ts": "issue 3: file → agent → collector → durable log ≥ 150 MB/s, agent ≤ 10 CPU s/GB, ≥ 7× on the wire, agent RSS < 100 MB; 1,000 idle files: agent RSS < 80 MB; issue 11: with a drop + redact + set chain (transforms column) ≥ 60 % of the plain pipeline with the same zstd strategy (share_of_plain)",
  "fluentbit.bench.ts":
    "issue 8: side by side with Fluent Bit in the same run, the same 1 GiB of mixed access/JSON lines over 4 files, rounds alternating which goes first: Fluent Bit (tail → http, flush 0.2 s, 2 output workers, zstd; built by bench/peers/fluent-bit.sh) into an acknowledging endpoint that decompresses and counts lines, and logship's agent into its collector (durable log); MB/s, shipper CPU s/GB, shipper peak RSS (VmHWM) and the ratios (medians over the rounds); issue 3: Fluent Bit tuned was about 119 MB/s, 11.5 CPU s/GB, 80 MB RSS, which logship means to beat (docs/FLUENT-BIT.md)",
  "ingest.bench.ts": "issue 4: HTTP ingest into the embedded log with group-commit fsync ≥ 500 MB/s of raw log; the Kafka log backend against the local broker beside it",
  "compression.bench.ts": "backs the default compression.level (no target of its own)",
  "archive.bench.ts": "issue 6: the archive sink on the local disk (a sink runner reading the embedded log, decoding, writing and committing files): Parquet ≥ 200,000 events/s, files ≤ 15 % of the raw log; NDJSON.zst beside it",
  "spool-memory.bench.ts": "issue 3: collector down, writer at 50 MB/s for 60 s: agent RSS < 100 MB while the spool grows (the test holds it under 120 MiB)",
  "kafka-client.bench.ts": "issue 4: choosing the Kafka client against the real local broker (docs/KAFKA.md)",
  "latency.bench.ts": "issue 8: end-to-end latency from a line written to it being searchable (p50, p99) and the agent's CPU per GB, at a steady 5 MB/s (a busy host); no target",
  "log.bench.ts": "issue 4: the embedded log without HTTP: ingest ≥ 500 MB/s of raw log (stored compressed), a sink runner's read and decode ≥ 300 MB/s",
  "parsers.bench.ts": "parser hot path alone (no target of its own; json ≥ 500k lines/s was the design aim)",
  "package.bench.ts": "issue 7: the single executable dist/logship-linux-x64: its size, and start-up to the output of `logship version` (median of 10 runs); the agent's one restart with its Node options beside it (docs/PACKAGING.md)",
  "opensearch.bench.ts": "issue 10: events/s into OpenSearch from one collector (a sink runner over the embedded log, the node on this machine) beside the embedded index's rate through the same runner; no target",
  "ui.bench.ts": "issue 9: web UI, time from pressing Enter to the first results painted (measured in Chromium with User Timing), needle query over 10 M events: < 300 ms; the newest page of every event beside it (docs/UI.md, Benchmark)",
  "ui-tail.bench.ts": "issue 9: web UI live tail at 2,000 lines/s for 20 s (real agent → collector → Chromium): the page stays responsive (frames over 50 ms, frame gaps, a Pause click to its paint, measured in the page) and the rows stay bounded; every line shown or counted as dropped (docs/UI.md, Live tail at high rates)",
  "search.bench.ts":
    "issue 5: 10 M indexed events (~1.5 GB raw): indexing ≥ 150,000 events/s, needle p50 < 50 ms over the full range, histogram over 24 h < 500 ms, freshness p99 < 2 s while ingesting 20,000 events/s; a field filter over the last hour and a phrase query beside them (what each case measures and where its clock starts: docs/SEARCH.md, Benchmark)",
};

function table(rows: Record<string, unknown>[]): string {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const header = `| ${columns.join(" | ")} |\n| ${columns.map(() => "---").join(" | ")} |\n`;
  return header + rows.map((row) => `| ${columns.map((column) => String(row[column] ?? "")).join(" | ")} |`).join("\n") + "\n";
}

let markdown = `# Benchmarks

Written by \`npm run bench\` (bench/run.ts); do not edit by hand.

- date: ${new Date().toISOString()}
- machine: ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB
- node: ${process.version}
- load average (1 min) at start and end: ${loadAtStart.toFixed(2)}, ${(loadavg()[0] ?? 0).toFixed(2)} (2 cores: above ~0.5 something else was running)

Each benchmark prints one JSON object per case; the tables below are those objects.

![Throughput and peak memory of every case below](benchmarks.svg)
`;
const page = join(benchDirectory, "..", "docs", "BENCHMARKS.md");
const section = (file: string, rows: Record<string, unknown>[], note = ""): string => `\n## ${file}\n\n${TARGETS[file] ?? ""}\n\n${note}${table(rows)}`;
if (values.only === undefined) {
  for (const [file, rows] of results) markdown += section(file, rows);
  writeFileSync(page, markdown);
} else {
  // --only: replace just those sections of the page, each saying when it was run and how busy the machine was.
  let current = readFileSync(page, "utf8");
  const chartLine = "\n![Throughput and peak memory of every case below](benchmarks.svg)\n";
  if (!current.includes("(benchmarks.svg)")) current = current.replace("the tables below are those objects.\n", `the tables below are those objects.\n${chartLine}`);
  const note = `Run on its own (\`npm run bench -- --only\`): ${new Date().toISOString()}, load average ${loadAtStart.toFixed(2)} → ${(loadavg()[0] ?? 0).toFixed(2)}.\n\n`;
  for (const [file, rows] of results) {
    const start = current.indexOf(`\n## ${file}\n`);
    const next = start === -1 ? -1 : current.indexOf("\n## ", start + 1);
    const replacement = section(file, rows, note);
    current = start === -1 ? current + replacement : current.slice(0, start) + replacement + (next === -1 ? "" : current.slice(next));
  }
  writeFileSync(page, current);
}
// The chart from the page as it now reads (both modes).
writeFileSync(join(benchDirectory, "..", "docs", "benchmarks.svg"), renderChart(readFileSync(page, "utf8")));
