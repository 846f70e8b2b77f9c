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

test("logship search --context N: each match with N lines of its file around it, grep's marks, overlapping groups merged; ndjson: one object per match", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-search-context-cli-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const collector = await startTestCollector({ dataDir: directory });
  t.after(() => collector.stop());
  // Matches on lines 3 and 5 (their contexts overlap) and 20; another file's lines interleave in the index.
  const lines = Array.from({ length: 30 }, (_, index) => `${index === 3 || index === 5 || index === 20 ? "ERROR" : "INFO"} line ${String(index).padStart(2, "0")}`);
  const observedMs = Date.parse("2026-11-29T10:00:00Z");
  assert.equal((await postBatch(collector.url, makeBatch({ seq: 1, lines: lines.slice(0, 15), observedMs }).body)).status, 200);
  assert.equal((await postBatch(collector.url, makeBatch({ seq: 2, lines: lines.map((line) => `other ${line}`), streamKey: "other-key-0000000000", path: "/var/log/other.log", observedMs }).body)).status, 200);
  assert.equal((await postBatch(collector.url, makeBatch({ seq: 3, lines: lines.slice(15), baseOffset: lines.slice(0, 15).join("\n").length + 1, observedMs }).body)).status, 200);
  await until(() => {
    assert.ok(collector.sinks instanceof SinkFanout);
    return collector.sinks.status().some((runner) => runner.sink === "search" && runner.committedOffset === 60);
  }, "the search sink to index every event");
  const server = ["--server", collector.url, "--token", SEARCH_TOKEN];
  const group = (from: number, to: number): string => lines.slice(from, to + 1).map((line) => `2026-11-29T10:00:00.000Z web-1 app${line.startsWith("ERROR") ? ":" : "-"} ${line}\n`).join("");
  // Whatever order the search gives the matches in (here they share a time, so their ids decide), 3 and 5 make one group.
  for (const order of ["desc", "asc"]) {
    const text = captureContext({ terminal: false });
    assert.equal(await runCli(["search", ...server, "--context", "2", "--order", order, "ERROR -other"], text), 0, text.err.join(""));
    const output = text.out.join("");
    assert.ok(output === `${group(18, 22)}--\n${group(1, 7)}` || output === `${group(1, 7)}--\n${group(18, 22)}`, output);
  }

  const ndjson = captureContext({ terminal: false });
  assert.equal(await runCli(["search", ...server, "--context", "1", "--output", "ndjson", "ERROR -other"], ndjson), 0);
  const objects = ndjson.out.join("").trimEnd().split("\n").map((line) => JSON.parse(line) as { event: { message: string }; before: { message: string }[]; after: { message: string }[] });
  assert.deepEqual(
    objects.map((object) => [object.before.map((event) => event.message), object.event.message, object.after.map((event) => event.message)]).sort(),
    [3, 5, 20].map((index) => [[lines[index - 1]], lines[index], [lines[index + 1]]]).sort(),
  );
  const none = captureContext({ terminal: false });
  assert.equal(await runCli(["search", ...server, "--context", "2", "nosuchword"], none), 1);
  assert.equal(none.out.join(""), "");
});

test("logship search: --follow and --context refuse what they cannot print (exit 2, nothing asked)", async () => {
  const cases: [string[], RegExp][] = [
    [["--follow", "--output", "json"], /--follow prints events as they come: use --output text or ndjson/],
    [["--follow", "--count"], /--follow cannot be combined with --count/],
    [["--follow", "--until", "1h"], /--until cannot bound that/],
    [["--follow", "--context", "2"], /--follow cannot be combined with --context/],
    [["--context", "2", "--output", "json"], /--context prints text or ndjson/],
    [["--context", "2", "--count"], /--context cannot be combined with --count/],
    [["--context", "101"], /--context.*expected a whole number from 0 to 100/],
  ];
  for (const [args, message] of cases) {
    const context = captureContext({ terminal: false });
    // Port 9 (discard): a request would fail differently; these never get that far.
    assert.equal(await runCli(["search", "--server", "http://127.0.0.1:9", ...args, "ERROR"], context), 2, args.join(" "));
    assert.match(context.err.join(""), message, args.join(" "));
  }
});
