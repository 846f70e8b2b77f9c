/**
 * Paging at scale, end to end: an agent ships 100,000 numbered lines into a
 * real collector, and both the CLI (pages of up to 10,000 through the
 * cursor) and the HTTP API (pages of 997, so no page boundary falls on a
 * round number) read every line exactly once, in both orders, while the
 * count agrees. Same-millisecond ties are the hard case for a keyset cursor:
 * lines read in one chunk share their `time` (no parser), so the cursor's
 * tie-break on `id` is what keeps a page boundary inside a run of equal
 * times from skipping or repeating.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CollectorStatusJson } from "../../collector/admin/status.ts";
import type { Event } from "../../shared/event.ts";
import { agentSetup, collectorSetup, runLogship, until, waitDelivered } from "../helpers/processes.ts";
import { cleanups } from "../helpers/cleanups.ts";

const ADMIN_TOKEN = "e2e-paging-admin-token";
const LINES = 100_000;

test("100,000 shipped lines page through the cursor without gaps or repeats: CLI and API, newest and oldest first", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-e2e-paging-"));
  const defer = cleanups(t);
  defer(() => rmSync(directory, { recursive: true, force: true }));
  const log = join(directory, "numbers.log");
  await writeFile(log, Array.from({ length: LINES }, (_, index) => `line ${index} of the paging test\n`).join(""));
  const collectorConfig = await collectorSetup(join(directory, "collector"), `  - { token: ${ADMIN_TOKEN}, tenant: default, role: admin }\n`);
  const collector = await collectorConfig.start();
  defer(() => collector.kill());
  const agentConfig = await agentSetup(join(directory, "agent"), [collectorConfig.url], [log]);
  const agent = await agentConfig.start();
  defer(() => agent.kill());
  await waitDelivered(agentConfig, [log], 120_000);
  await until(`the search sink to index all ${LINES} events`, 120_000, async () => {
    const response = await fetch(`${collectorConfig.url}/v1/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const search = ((await response.json()) as CollectorStatusJson).sinks.find((sink) => sink.sink === "search");
    return search !== undefined && search.committed_offset === LINES && search.lag.events === 0 ? true : undefined;
  });

  /** Line numbers in the order read; fails on a line that is not one of ours. */
  const numbers = (events: Event[]): number[] =>
    events.map((event) => {
      const match = /^line (\d+) of the paging test$/.exec(event.message);
      assert.ok(match, `unexpected event ${JSON.stringify(event.message)}`);
      return Number(match[1]);
    });
  const assertEveryLineOnce = (read: number[], how: string): void => {
    assert.equal(read.length, LINES, `${how}: ${read.length} events read`);
    const seen = new Uint8Array(LINES);
    for (const number of read) seen[number] = (seen[number] ?? 0) + 1;
    const wrong = seen.findIndex((count) => count !== 1);
    assert.equal(wrong, -1, `${how}: line ${wrong} read ${seen[wrong]} times`);
  };

  // The CLI: pages of at most 10,000, joined through the cursor.
  const count = await runLogship(["search", "--config", collectorConfig.configPath, "--count", ""]);
  assert.deepEqual([count.code, count.stdout], [0, `${LINES}\n`], count.stderr);
  for (const order of ["desc", "asc"]) {
    const run = await runLogship(["search", "--config", collectorConfig.configPath, "--limit", String(LINES + 1), "--order", order, "--output", "ndjson", ""]);
    assert.equal(run.code, 0, run.stderr);
    const events = run.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Event);
    assertEveryLineOnce(numbers(events), `CLI --order ${order}`);
    // The file is read front to back, so time order is line order (ties broken by id, which is not line order).
    const times = events.map((event) => event.time);
    assert.ok(times.every((time, index) => index === 0 || (order === "asc" ? (times[index - 1] as string) <= time : (times[index - 1] as string) >= time)), `CLI --order ${order}: times in order`);
  }

  // The API: pages of 997 through the opaque cursor.
  for (const order of ["desc", "asc"]) {
    const read: Event[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const parameters = new URLSearchParams({ q: "", limit: "997", order });
      if (cursor !== null) parameters.set("cursor", cursor);
      const response = await fetch(`${collectorConfig.url}/v1/search?${parameters}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(response.status, 200);
      const page = (await response.json()) as { events: Event[]; cursor: string | null; partial: boolean };
      assert.equal(page.partial, false);
      assert.ok(page.events.length <= 997);
      read.push(...page.events);
      cursor = page.cursor;
      pages++;
    } while (cursor !== null);
    assertEveryLineOnce(numbers(read), `API order ${order}`);
    assert.ok(pages >= Math.ceil(LINES / 997), `API order ${order}: ${pages} pages`);
  }
});
