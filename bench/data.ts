/**
 * Benchmark data: mixed access-log and JSON lines (about half each), written
 * once to a cache directory and reused. Deterministic (seeded), so runs compare.
 */
import { existsSync, mkdirSync, openSync, writeSync, closeSync, statSync, renameSync } from "node:fs";
import { join } from "node:path";
import { seededRandom } from "../shared/random.ts";

const PATHS = ["/", "/index.html", "/api/v1/orders", "/api/v1/users/42", "/static/app.js", "/healthz", "/login", "/cart?id=1842"];
const AGENTS = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "curl/8.5.0", "kube-probe/1.31", "Go-http-client/2.0"];
const LEVELS = ["info", "info", "info", "warn", "error", "debug"];


export function mixedLine(next: () => number, sequence: number, jsonOnly = false): string {
  const pick = <T>(list: T[]): T => list[Math.floor(next() * list.length)] as T;
  const seconds = 1_764_000_000 + Math.floor(sequence / 1000);
  if (!jsonOnly && next() < 0.5) {
    const date = new Date(seconds * 1000);
    const stamp = `${String(date.getUTCDate()).padStart(2, "0")}/Nov/2026:${String(date.getUTCHours()).padStart(2, "0")}:${String(date.getUTCMinutes()).padStart(2, "0")}:${String(date.getUTCSeconds()).padStart(2, "0")} +0000`;
    return `10.${Math.floor(next() * 255)}.${Math.floor(next() * 255)}.${Math.floor(next() * 255)} - - [${stamp}] "GET ${pick(PATHS)} HTTP/1.1" ${pick([200, 200, 200, 301, 404, 500])} ${Math.floor(next() * 50000)} "-" "${pick(AGENTS)}"`;
  }
  return JSON.stringify({
    ts: new Date(seconds * 1000 + Math.floor(next() * 1000)).toISOString(),
    level: pick(LEVELS),
    message: `request ${sequence} handled`,
    route: pick(PATHS),
    status: pick([200, 201, 400, 500]),
    duration_ms: Math.floor(next() * 3000),
    trace_id: Math.floor(next() * 2 ** 52).toString(16),
  });
}

/** Files totalling about `bytes`, split over `files` files; created once, then reused. */
export function benchFiles(directory: string, bytes: number, files: number, kind: "mixed" | "json" = "mixed"): string[] {
  mkdirSync(directory, { recursive: true });
  const paths: string[] = [];
  const perFile = Math.ceil(bytes / files);
  for (let index = 0; index < files; index++) {
    const path = join(directory, `${kind}-${index}.log`);
    paths.push(path);
    if (existsSync(path) && statSync(path).size >= perFile) continue;
    const next = seededRandom(index + 1);
    const temp = `${path}.partial`;
    const fd = openSync(temp, "w");
    let written = 0;
    let sequence = 0;
    while (written < perFile) {
      let chunk = "";
      for (let n = 0; n < 2000; n++) {
        chunk += mixedLine(next, sequence++, kind === "json") + "\n";
      }
      written += writeSync(fd, chunk);
    }
    closeSync(fd);
    renameSync(temp, path);
  }
  return paths;
}
