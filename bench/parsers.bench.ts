/**
 * Line parser throughput over synthetic lines, one JSON object per parser:
 *   {"parser":"json","lines_per_s":...,"mb_per_s":...,"lines":...,"bytes_per_line":...}
 * MB is 10^6 bytes of UTF-8 input. Run: npx node bench/parsers.bench.ts
 * Optional: BENCH_SECONDS (default 1) per parser, BENCH_ONLY=json,logfmt.
 */
import { buildParser } from "../agent/parsers/index.ts";
import type { ParserConfig } from "../agent/parsers/types.ts";

const DISTINCT_LINES = 10_000;
const SECONDS_PER_PARSER = Number(process.env.BENCH_SECONDS ?? "1");
const WARMUP_PASSES = 20;
const OBSERVED_MS = Date.parse("2024-01-02T12:00:00Z");

interface Case {
  name: string;
  config: ParserConfig;
  line(index: number): string;
}

const LEVELS = ["debug", "info", "warn", "error"] as const;
const level = (index: number): string => LEVELS[index % LEVELS.length] ?? "info";
const pad2 = (value: number): string => String(value % 60).padStart(2, "0");

const CASES: Case[] = [
  {
    name: "json",
    config: { type: "json" },
    line: (index) => `{"level":"${level(index)}","message":"request ${index} done","status":200,"duration_ms":${index % 500}}`,
  },
  {
    name: "json+time_field",
    config: { type: "json", time_field: "time" },
    line: (index) =>
      `{"time":"2024-01-02T11:${pad2(index)}:${pad2(index * 7)}.${String(index % 1000).padStart(3, "0")}Z","level":"${level(index)}","message":"request ${index} done"}`,
  },
  {
    name: "logfmt",
    config: { type: "logfmt" },
    line: (index) => `level=${level(index)} msg="request ${index} done" status=200 duration=${index % 500}ms path=/api/v1/items/${index}`,
  },
  {
    name: "regex",
    config: { type: "regex", pattern: String.raw`^(?<level>[A-Z]+) \[(?<thread>[^\]]+)\] (?<message>.*)$` },
    line: (index) => `${level(index).toUpperCase()} [worker-${index % 8}] request ${index} done in ${index % 500} ms`,
  },
  {
    name: "nginx",
    config: { type: "nginx" },
    line: (index) =>
      `203.0.113.${index % 256} - - [02/Jan/2024:11:${pad2(index)}:${pad2(index * 7)} +0000] "GET /api/v1/items/${index}?page=${index % 10} HTTP/1.1" 200 ${index % 9000} "https://example.com/list" "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"`,
  },
  {
    name: "apache",
    config: { type: "apache" },
    line: (index) => `192.0.2.${index % 256} - frank [02/Jan/2024:11:${pad2(index)}:${pad2(index * 7)} -0700] "GET /img/${index}.gif HTTP/1.0" 200 ${index % 9000}`,
  },
  {
    name: "syslog-3164",
    config: { type: "syslog" },
    line: (index) => `<38>Jan  2 11:${pad2(index)}:${pad2(index * 7)} web-1 sshd[${1000 + (index % 5000)}]: Accepted publickey for deploy from 198.51.100.${index % 256} port ${40000 + index}`,
  },
  {
    name: "syslog-5424",
    config: { type: "syslog" },
    line: (index) =>
      `<165>1 2024-01-02T11:${pad2(index)}:${pad2(index * 7)}.003Z web-1 app ${index % 5000} ID47 [origin@32473 ip="198.51.100.${index % 256}" seq="${index}"] request ${index} done`,
  },
];

function run(benchCase: Case): void {
  const parser = buildParser(benchCase.config);
  const lines = Array.from({ length: DISTINCT_LINES }, (_, index) => benchCase.line(index));
  const bytesPerPass = lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
  let failures = 0;
  for (let pass = 0; pass < WARMUP_PASSES; pass++) {
    for (const line of lines) if (!parser.parse(line, OBSERVED_MS).ok) failures++;
  }
  if (failures > 0) throw new Error(`${benchCase.name}: ${failures} synthetic lines failed to parse`);
  let passes = 0;
  const startNs = process.hrtime.bigint();
  const budgetNs = BigInt(Math.round(SECONDS_PER_PARSER * 1e9));
  let elapsedNs = 0n;
  let sink = 0;
  do {
    for (const line of lines) {
      const result = parser.parse(line, OBSERVED_MS);
      if (result.ok) sink++;
    }
    passes++;
    elapsedNs = process.hrtime.bigint() - startNs;
  } while (elapsedNs < budgetNs);
  const seconds = Number(elapsedNs) / 1e9;
  const lineCount = passes * lines.length;
  if (sink !== lineCount) throw new Error(`${benchCase.name}: parse failures during the run`);
  console.log(
    JSON.stringify({
      parser: benchCase.name,
      lines_per_s: Math.round(lineCount / seconds),
      mb_per_s: Math.round(((passes * bytesPerPass) / 1e6 / seconds) * 10) / 10,
      lines: lineCount,
      bytes_per_line: Math.round(bytesPerPass / lines.length),
    }),
  );
}

const only = process.env.BENCH_ONLY?.split(",");
for (const benchCase of CASES) if (only === undefined || only.includes(benchCase.name)) run(benchCase);
