/**
 * zstd sweep on the benchmark's mixed access/JSON lines, compressed in 1 MiB
 * batches as the agent does: ratio and single-thread MB/s per level, with the
 * level's own strategy (auto) and with greedy and lazy over it. Backs the
 * defaults `compression.level` and `compression.strategy`. Prints one JSON
 * object per setting.
 */
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { zstdCompressSync } from "node:zlib";
import { zstdParams, type ZstdStrategy } from "../agent/ship/compressor.ts";
import { benchFiles } from "./data.ts";

const root = process.env["LOGSHIP_BENCH_DATA"] ?? join(import.meta.dirname, "..", ".bench-data");
const [path] = benchFiles(join(root, "tail"), 1 << 30, 4, "mixed");
const data = readFileSync(path as string).subarray(0, 64 << 20);
const batchBytes = 1 << 20;
const settings: [number, ZstdStrategy][] = [
  ...[1, 2, 3, 4, 5, 6, 9].map((level): [number, ZstdStrategy] => [level, "auto"]),
  [1, "greedy"],
  [3, "greedy"],
  [1, "lazy"],
];
for (const [level, strategy] of settings) {
  const params = zstdParams({ level, strategy });
  let compressed = 0;
  const started = process.hrtime.bigint();
  for (let offset = 0; offset < data.length; offset += batchBytes) {
    compressed += zstdCompressSync(data.subarray(offset, offset + batchBytes), { params }).length;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ bench: "compression", level, strategy, ratio: Math.round((data.length / compressed) * 100) / 100, mb_per_s: Math.round(data.length / 1e6 / seconds) }));
}
