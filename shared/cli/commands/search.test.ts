import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBatch } from "../../../collector/testing/batches.ts";
import { SEARCH_TOKEN, postBatch, startTestCollector, until } from "../../../collector/testing/collector.ts";
import { SinkFanout } from "../../../collector/sinks/fanout.ts";
import type { CliContext } from "../context.ts";
import { runCli } from "../program.ts";

function captureContext(options: { terminal: boolean; env?: Record<string, string> }): CliContext & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, writeOut: (text) => out.push(text), writeErr: (text) => err.push(text), env: options.env ?? {}, stdoutIsTerminal: options.terminal, exitCode: 0 };
}

test("logship search: text output is coloured on a terminal only (and not with NO_COLOR); --count and a --limit above a page read several pages", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-search-cli-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const collector = await startTestCollector({ dataDir: directory });
  t.after(() => collector.stop());
  const lines = Array.from({ length: 10_050 }, (_, index) => `line ${index}`);
  assert.equal((await postBatch(collector.url, makeBatch({ seq: 1, lines, observedMs: Date.parse("2026-11-29T10:00:00Z") }).body)).status, 200);
  const server = ["--server", collector.url, "--token", SEARCH_TOKEN];
  await until(() => {
    assert.ok(collector.sinks instanceof SinkFanout);
    return collector.sinks.status().some((runner) => runner.sink === "search" && runner.committedOffset === lines.length);
  }, "the search sink to index every event");
  // --count pages through all of them: 10,000 then 50.
  const counted = captureContext({ terminal: false });
  assert.equal(await runCli(["search", ...server, "--count", ""], counted), 0);
  assert.equal(counted.out.join(""), "10050\n");

  const terminal = captureContext({ terminal: true });
  assert.equal(await runCli(["search", ...server, '"line 7"'], terminal), 0);
  assert.equal(terminal.out.join(""), "\x1b[2m2026-11-29T10:00:00.000Z\x1b[0m \x1b[36mweb-1\x1b[0m \x1b[33mapp\x1b[0m line 7\n");
  const noColour = captureContext({ terminal: true, env: { NO_COLOR: "1" } });
  assert.equal(await runCli(["search", ...server, '"line 7"'], noColour), 0);
  assert.equal(noColour.out.join(""), "2026-11-29T10:00:00.000Z web-1 app line 7\n");
  const pipe = captureContext({ terminal: false });
  assert.equal(await runCli(["search", ...server, '"line 7"'], pipe), 0);
  assert.equal(pipe.out.join(""), "2026-11-29T10:00:00.000Z web-1 app line 7\n");

  // 10,020 events: one page of 10,000 and one of 20, each event once.
  const many = captureContext({ terminal: false });
  assert.equal(await runCli(["search", ...server, "--limit", "10020", "--output", "ndjson", "line"], many), 0);
  const ids = many.out.join("").trimEnd().split("\n").map((line) => (JSON.parse(line) as { id: string }).id);
  assert.equal(ids.length, 10_020);
  assert.equal(new Set(ids).size, 10_020);
  const none = captureContext({ terminal: false });
  assert.equal(await runCli(["search", ...server, "--limit", "0", "line"], none), 2);
  assert.match(none.err.join(""), /--limit.*expected a whole number ≥ 1/);
});
