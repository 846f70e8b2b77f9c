/**
 * Tailing throughput: read ~1 GiB of mixed access-log and JSON lines from
 * files, split, (join multiline,) parse into events and hand them to an
 * output that only counts and acknowledges. No network.
 *
 *   npx node bench/tail.bench.ts [--bytes 1GiB] [--case none|json|multiline|transforms]
 *
 * `transforms`: the mixed lines without a parser, through a drop (a phrase
 * or a regex on the message), a redact (email, IPv4) and a set (a constant
 * and a template): every line becomes an event object, which the `none`
 * case avoids (issue 11: at least 60 % of the plain pipeline).
 *
 * Each case runs in its own child process so that its peak RSS is its own.
 * Prints one JSON object per case on stdout.
 */
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseSize } from "../shared/config/units.ts";
import { silentLogger } from "../shared/logger.ts";
import { buildParser } from "../agent/parsers/index.ts";
import { compileTransforms } from "../agent/transforms/chain.ts";
import type { BlockOutput, EventBlock } from "../agent/events.ts";
import { MemoryCheckpointStore } from "../agent/tail/checkpoint.ts";
import { sourceRuntime } from "../agent/tail/source.ts";
import { Tailer } from "../agent/tail/tailer.ts";
import { buildTailOptions } from "../agent/build.ts";
import { agentConfigSchema } from "../agent/config.ts";
import { benchFiles } from "./data.ts";
import { bundle } from "./bundle.ts";

const { values } = parseArgs({
  options: { "read-bytes": { type: "string", default: "256KiB" }, bytes: { type: "string", default: "1GiB" }, case: { type: "string" }, files: { type: "string", default: "4" }, child: { type: "boolean", default: false } },
});
const bytes = parseSize(values.bytes);
const files = Number(values.files);
const dataDirectory = join(process.env["LOGSHIP_BENCH_DATA"] ?? join(import.meta.dirname, "..", ".bench-data"), "tail");
const CASES = ["none", "json", "multiline", "transforms"] as const;
/** issue 11's pipeline with transforms: a filter, a redact and a set on every event of a source without a parser. */
const BENCH_TRANSFORMS = [{ drop: '"GET /healthz" OR /DEBUG/' }, { redact: { patterns: ["email", "ipv4"] } }, { set: { "fields.env": "prod", "fields.origin": "{host}/{source}" } }];
type Case = (typeof CASES)[number];

class CountingOutput implements BlockOutput {
  events = 0;
  async send(block: EventBlock): Promise<void> {
    this.events += block.count;
    block.release();
    block.ack();
  }
}

async function runCase(name: Case): Promise<Record<string, unknown>> {
  const paths = benchFiles(dataDirectory, bytes, files, name === "json" ? "json" : "mixed");
  const totalBytes = paths.reduce((sum, path) => sum + statSize(path), 0);
  const source = sourceRuntime({
    name,
    paths: paths,
    exclude: [],
    startAt: "beginning",
    fields: { service: "bench" },
    parser: name === "json" ? buildParser({ type: "json" }) : null,
    // Every line starts a new event here; the joiner still tests each line.
    multiline: name === "multiline" ? { start: "^(\\d|\\{)", negate: false, linesMax: 500, bytesMax: 1 << 20, timeoutMs: 2000 } : null,
    lineBytesMax: 1 << 20,
    transforms: name === "transforms" ? compileTransforms(agentConfigSchema.parse({ sources: [{ name, paths: ["/x"], transforms: BENCH_TRANSFORMS }] }).sources[0]?.transforms ?? [], { streamLevelTail: true }) : null,
  });
  const output = new CountingOutput();
  const defaults = agentConfigSchema.parse({ sources: [{ name: "x", paths: ["/x"] }], tail: { read_bytes_per_pass: values["read-bytes"] } });
  const tailer = new Tailer({
    sources: [source],
    tail: buildTailOptions(defaults),
    host: "bench",
    output,
    checkpoints: new MemoryCheckpointStore(),
    logger: silentLogger,
    fromBeginning: true,
    once: true,
    watch: false,
  });
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await tailer.run(new AbortController().signal);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    bench: "tail",
    case: name,
    bytes: totalBytes,
    events: output.events,
    seconds: round(seconds),
    mb_per_s: round(totalBytes / 1e6 / seconds),
    lines_per_s: Math.round(output.events / seconds),
    cpu_seconds_per_gb: round((cpu.user + cpu.system) / 1e6 / (totalBytes / 1e9)),
    peak_rss_mb: round(process.resourceUsage().maxRSS / 1024),
  };
}

function statSize(path: string): number {
  return statSync(path).size;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

if (values.child) {
  console.log(JSON.stringify(await runCase(values.case as Case)));
} else {
  benchFiles(dataDirectory, bytes, files, "mixed");
  benchFiles(dataDirectory, bytes, files, "json");
  const cases = values.case === undefined ? CASES : [values.case as Case];
  const bundled = await bundle(import.meta.filename, join(dataDirectory, "..", "tail.bench.bundle.mjs"));
  for (const name of cases) {
    const output = execFileSync(process.execPath, [bundled, "--child", "--case", name, "--bytes", values.bytes, "--files", String(files), "--read-bytes", values["read-bytes"]], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    process.stdout.write(output);
  }
}
