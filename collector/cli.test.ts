/**
 * `logship collector` and `logship log dump` as real subprocesses: SIGTERM
 * with a batch in flight (its body still arriving) answers it 200 and exits
 * 0; the dump prints exactly the stored events.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { makeBatch, numberedLines } from "./testing/batches.ts";
import { cleanups } from "../test/helpers/cleanups.ts";

const BIN = fileURLToPath(new URL("../bin/logship.ts", import.meta.url));
const TOKEN = "cli-test-token";

interface LogLine {
  msg: string;
  [key: string]: unknown;
}

/** Collects the child's JSON log lines; `waitFor` resolves at the first line with that message. */
function watchLog(child: ChildProcess): { waitFor: (message: string) => Promise<LogLine>; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const waiters: { message: string; resolve: (line: LogLine) => void }[] = [];
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text };
    }
    lines.push(line);
    for (const waiter of waiters.filter((candidate) => candidate.message === line.msg)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  return {
    lines,
    waitFor: (message) => {
      const seen = lines.find((line) => line.msg === message);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ message, resolve }));
    },
  };
}

test("SIGTERM with a batch in flight: the batch is acknowledged 200, the collector exits 0, log dump prints its events", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-cli-"));
  const defer = cleanups(t);
  defer(() => rmSync(directory, { recursive: true, force: true }));
  const configFile = join(directory, "collector.yaml");
  writeFileSync(configFile, `listen: 127.0.0.1:0\ndata_dir: ${join(directory, "data")}\ntokens:\n  - { token: ${TOKEN}, role: ingest }\n`);
  const child = spawn(process.execPath, [BIN, "collector", "--config", configFile, "--log-format", "json", "--log-level", "debug"], { stdio: ["ignore", "ignore", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // Killed before the directory goes (a cleanup registered later runs first).
  defer(() => void child.kill("SIGKILL"));
  const log = watchLog(child);
  const listening = await log.waitFor("listening");
  const url = new URL(String(listening["address"]));

  const batch = makeBatch({ seq: 1, lines: numberedLines("in flight", 0, 500) });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = httpRequest(
      { host: url.hostname, port: url.port, path: "/v1/ingest", method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-encoding": "zstd", "content-length": batch.body.length } },
      (incoming) => {
        let body = "";
        incoming.on("data", (chunk: Buffer) => (body += chunk.toString()));
        incoming.on("end", () => resolve({ status: incoming.statusCode ?? 0, body }));
      },
    );
    request.on("error", reject);
    // Half the body now; the rest only after the collector has begun shutting down.
    request.write(batch.body.subarray(0, 10));
    void log
      .waitFor("ingest admitted")
      .then(() => {
        child.kill("SIGTERM");
        return log.waitFor("shutting down: finishing in-flight batches");
      })
      .then(() => request.end(batch.body.subarray(10)));
  });
  const answer = await response;
  assert.equal(answer.status, 200, answer.body);
  assert.deepEqual(JSON.parse(answer.body), { offset: 0, events: 500 });
  assert.equal(await exited, 0, JSON.stringify(log.lines));
  assert.ok(log.lines.some((line) => line.msg === "collector stopped"));

  const dump = spawnSync(process.execPath, [BIN, "log", "dump", "--config", configFile], { encoding: "utf8", maxBuffer: 1 << 26 });
  assert.equal(dump.status, 0, dump.stderr);
  const events = dump.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as { tenant: string; message: string; host: string; offset: number });
  assert.deepEqual(
    events.map((event) => event.message),
    numberedLines("in flight", 0, 500),
  );
  assert.ok(events.every((event) => event.tenant === "default" && event.host === "web-1"));
  const from = spawnSync(process.execPath, [BIN, "log", "dump", "--config", configFile, "--from", "498"], { encoding: "utf8" });
  assert.deepEqual(
    from.stdout.trimEnd().split("\n").map((line) => (JSON.parse(line) as { message: string }).message),
    ["in flight 498", "in flight 499"],
  );
  const otherTenant = spawnSync(process.execPath, [BIN, "log", "dump", "--config", configFile, "--tenant", "payments"], { encoding: "utf8" });
  assert.deepEqual([otherTenant.status, otherTenant.stdout], [0, ""]);
});

test("a collector that cannot listen exits 1 with one line; a bad --from is a usage error", (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-cli-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const configFile = join(directory, "collector.yaml");
  writeFileSync(configFile, `listen: 203.0.113.1:7170\ndata_dir: ${join(directory, "data")}\n`);
  const result = spawnSync(process.execPath, [BIN, "collector", "--config", configFile, "--log-format", "json"], { encoding: "utf8", timeout: 30_000 });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /^logship: listen EADDRNOTAVAIL/m);
  const dump = spawnSync(process.execPath, [BIN, "log", "dump", "--config", configFile, "--from", "-3"], { encoding: "utf8" });
  assert.equal(dump.status, 2);
});
