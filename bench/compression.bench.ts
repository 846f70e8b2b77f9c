/**
 * zstd level sweep on the benchmark's mixed access/JSON lines, compressed in
 * 1 MiB batches as the agent does: ratio and single-thread MB/s per level.
 * Backs the default `compression.level`. Prints one JSON object per level.
 */
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { constants, zstdCompressSync } from "node:zlib";
import { benchFiles } from "./data.ts";

const root = process.env["LOGSHIP_BENCH_DATA"] ?? join(import.meta.dirname, "..", ".bench-data");
const [path] = benchFiles(join(root, "tail"), 1 << 30, 4, "mixed");
const data = readFileSync(path as string).subarray(0, 64 << 20);
const batchBytes = 1 << 20;
for (const level of [1, 2, 3, 4, 5, 6, 9]) {
  let compressed = 0;
  const started = process.hrtime.bigint();
  for (let offset = 0; offset < data.length; offset += batchBytes) {
    compressed += zstdCompressSync(data.subarray(offset, offset + batchBytes), { params: { [constants.ZSTD_c_compressionLevel]: level } }).length;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ bench: "compression", level, ratio: Math.round((data.length / compressed) * 100) / 100, mb_per_s: Math.round(data.length / 1e6 / seconds) }));
}
