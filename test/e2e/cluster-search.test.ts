/**
 * The cluster search with real processes: three collectors, each listing
 * the other two as `peers`, and one agent per collector tailing its own
 * file; two of the agents also tail one shared file, so its events are
 * stored on two collectors with the same ids and times. A search on any
 * collector finds the union exactly once (counted against the generator,
 * and paged through with a small limit: no gap, no repeat); a histogram
 * sums the collectors' counts. With one collector stopped, a search on
 * another answers `partial: true` naming it, with exactly the other two's
 * events, and the CLI warns on stderr and falls back from a dead --server.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { appendFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CollectorStatusJson } from "../../collector/admin/status.ts";
import type { Event } from "../../shared/event.ts";
import { agentSetup, collectorSetup, runLogship, until, waitDelivered, type CollectorSetup } from "../helpers/processes.ts";
import { cleanups } from "../helpers/cleanups.ts";

const ADMIN_TOKEN = "e2e-admin-token";
const SEARCH_TOKEN = "e2e-search-token";
const OPERATOR_TOKENS = `  - { token: ${ADMIN_TOKEN}, tenant: default, role: admin }\n  - { token: ${SEARCH_TOKEN}, tenant: default, role: search }\n`;

const T0_MS = Date.parse("2026-11-29T10:00:00Z");
const LEVELS = ["info", "info", "warn", "error"];

interface Line {
  timeMs: number;
  message: string;
}

/** `count` lines of `name`, one every 10 s from 10:00 (so the files' times tie with each other), levels in turn. */
function generate(name: string, count: number): Line[] {
  return Array.from({ length: count }, (_, seq) => ({ timeMs: T0_MS + seq * 10_000, message: `${name} seq=${seq} ${LEVELS[seq % LEVELS.length]}` }));
}

const FILES = { alpha: generate("alpha", 300), beta: generate("beta", 250), gamma: generate("gamma", 200), shared: generate("shared", 100) };

async function writeLines(path: string, lines: readonly Line[]): Promise<void> {
  await writeFile(path, lines.map((line) => `${JSON.stringify({ time: new Date(line.timeMs).toISOString(), message: line.message })}\n`).join(""));
}

async function getJson(url: string, path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${SEARCH_TOKEN}` } });
  assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
  return (await response.json()) as Record<string, unknown>;
}

async function searchIndexed(collector: CollectorSetup, events: number): Promise<void> {
  await until(`${collector.url}'s search sink to index ${events} events`, 30_000, async () => {
    const response = await fetch(`${collector.url}/v1/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const status = (await response.json()) as CollectorStatusJson;
    const search = status.sinks.find((sink) => sink.sink === "search" && sink.tenant === "default");
    return search !== undefined && search.end_offset === events && search.committed_offset === events ? true : undefined;
  });
}

/** Every page of `q` on `url`, `limit` events per request, following the cursor. */
async function pageThrough(url: string, q: string, order: "desc" | "asc", limit: number): Promise<{ events: Event[]; partial: boolean[] }> {
  const events: Event[] = [];
  const partial: boolean[] = [];
  let cursor: string | null = null;
  do {
    const parameters = new URLSearchParams({ q, order, limit: String(limit) });
    if (cursor !== null) parameters.set("cursor", cursor);
    const page = await getJson(url, `/v1/search?${parameters}`);
    events.push(...(page["events"] as Event[]));
    partial.push(page["partial"] as boolean);
    cursor = page["cursor"] as string | null;
  } while (cursor !== null);
  return { events, partial };
}

/** Counts per minute from 10:00 of `lines` (the histogram's buckets over 10:00–11:00). */
function perMinute(lines: readonly Line[]): number[] {
  const counts = new Array<number>(60).fill(0);
  for (const line of lines) {
    const minute = Math.floor((line.timeMs - T0_MS) / 60_000);
    counts[minute] = (counts[minute] ?? 0) + 1;
  }
  return counts;
}

test("three collectors that list each other: a search on any finds the union once, pages without gaps, histograms sum; with one stopped, partial: true names it", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-e2e-cluster-"));
  const defer = cleanups(t);
  defer(() => rmSync(directory, { recursive: true, force: true }));
  const paths = { alpha: join(directory, "alpha.log"), beta: join(directory, "beta.log"), gamma: join(directory, "gamma.log"), shared: join(directory, "shared.log") };
  await Promise.all((Object.keys(FILES) as (keyof typeof FILES)[]).map((name) => writeLines(paths[name], FILES[name])));

  const collectors = await Promise.all(["a", "b", "c"].map((name) => collectorSetup(join(directory, `collector-${name}`), OPERATOR_TOKENS)));
  for (const collector of collectors) {
    const others = collectors.filter((other) => other !== collector).map((other) => other.url);
    await appendFile(collector.configPath, `search: { peer_timeout: 3s }\npeers: [${others.join(", ")}]\n`);
  }
  const [a, b, c] = collectors as [CollectorSetup, CollectorSetup, CollectorSetup];
  const [, , processC] = await Promise.all([a.start(), b.start(), c.start()]);
  defer(() => Promise.all(collectors.map((collector) => collector.process?.kill())));

  // One agent per collector; the first two also tail shared.log (same host, same file: the same ids and times on a and b).
  const jsonParser = "    parser: { type: json, time_field: time }"; // appended to the agent's one source
  const [agentA, agentB, agentC] = await Promise.all([
    agentSetup(join(directory, "agent-a"), [a.url], [paths.alpha, paths.shared], jsonParser),
    agentSetup(join(directory, "agent-b"), [b.url], [paths.beta, paths.shared], jsonParser),
    agentSetup(join(directory, "agent-c"), [c.url], [paths.gamma], jsonParser),
  ]);
  const agentProcesses = await Promise.all([agentA, agentB, agentC].map((agent) => agent.start()));
  defer(() => Promise.all(agentProcesses.map((process) => process.kill())));
  await Promise.all([waitDelivered(agentA, [paths.alpha, paths.shared], 60_000), waitDelivered(agentB, [paths.beta, paths.shared], 60_000), waitDelivered(agentC, [paths.gamma], 60_000)]);
  await Promise.all([searchIndexed(a, 400), searchIndexed(b, 350), searchIndexed(c, 200)]);

  const union = [...FILES.alpha, ...FILES.beta, ...FILES.gamma, ...FILES.shared];
  const search = (server: CollectorSetup, ...args: string[]) => runLogship(["search", "--server", server.url, ...args], { LOGSHIP_TOKEN: SEARCH_TOKEN });

  // Counts against the generator, asked of every collector: the shared events once.
  const counts: [string, (message: string) => boolean][] = [
    ["", () => true],
    ["shared", (message) => message.startsWith("shared ")],
    ["error", (message) => message.endsWith(" error")],
    ["warn -alpha", (message) => message.endsWith(" warn") && !message.startsWith("alpha ")],
  ];
  for (const [index, [query, matches]] of counts.entries()) {
    const expected = union.filter((line) => matches(line.message)).length;
    for (const collector of query === "" ? collectors : [collectors[index % collectors.length] as CollectorSetup]) {
      const run = await search(collector, "--count", query);
      assert.deepEqual([run.code, run.stdout, run.stderr], [0, `${expected}\n`, ""], `--count ${JSON.stringify(query)} on ${collector.url}`);
    }
  }
  // Every event once, with the event time its line carries.
  const listed = await search(b, "--output", "ndjson", "--limit", "5000", "");
  const events = listed.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Event);
  assert.deepEqual(events.map((event) => event.message).sort(), union.map((line) => line.message).sort());
  assert.deepEqual(new Map(events.map((event) => [event.message, Date.parse(event.time)])), new Map(union.map((line) => [line.message, line.timeMs])));

  // Paging through the union, 37 at a time, in both orders: each event exactly once, in (time, id) order.
  for (const order of ["desc", "asc"] as const) {
    const paged = await pageThrough(c.url, "", order, 37);
    assert.equal(paged.events.length, union.length, order);
    assert.equal(new Set(paged.events.map((event) => event.id)).size, union.length, `${order}: no repeats`);
    assert.ok(paged.partial.every((partial) => !partial));
    const times = paged.events.map((event) => Date.parse(event.time));
    assert.ok(times.every((time, index) => index === 0 || (order === "asc" ? (times[index - 1] as number) <= time : (times[index - 1] as number) >= time)), `${order}: in time order`);
  }

  // The histogram sums the three collectors' counts per minute (shared.log is on two of them: each counts it, docs/SEARCH.md).
  const hour = "since=2026-11-29T10:00:00Z&until=2026-11-29T11:00:00Z";
  const notShared = await getJson(a.url, `/v1/histogram?${hour}&q=-shared`);
  assert.deepEqual([notShared["bucket_ms"], notShared["complete"], notShared["partial"]], [60_000, true, false]);
  assert.deepEqual((notShared["buckets"] as { count: number }[]).map((bucket) => bucket.count), perMinute([...FILES.alpha, ...FILES.beta, ...FILES.gamma]));
  const errors = await getJson(b.url, `/v1/histogram?${hour}&q=error%20-shared`);
  assert.deepEqual((errors["buckets"] as { count: number }[]).map((bucket) => bucket.count), perMinute([...FILES.alpha, ...FILES.beta, ...FILES.gamma].filter((line) => line.message.endsWith(" error"))));

  // Collector c stops: a search on a is partial, names c, and holds exactly a's and b's events.
  await processC.kill();
  const partialPage = await getJson(a.url, "/v1/search?limit=10");
  assert.equal(partialPage["partial"], true);
  assert.deepEqual((partialPage["peers_failed"] as { peer: string; code: string }[]).map((failure) => [failure.peer, failure.code]), [[c.url, "LOGSHIP_PEER_UNREACHABLE"]]);
  const rest = await pageThrough(a.url, "", "desc", 97);
  assert.ok(rest.partial.every((partial) => partial));
  assert.deepEqual(rest.events.map((event) => event.message).sort(), [...FILES.alpha, ...FILES.beta, ...FILES.shared].map((line) => line.message).sort());
  const withoutC = await getJson(a.url, `/v1/histogram?${hour}&q=-shared`);
  assert.equal(withoutC["partial"], true);
  assert.deepEqual((withoutC["buckets"] as { count: number }[]).map((bucket) => bucket.count), perMinute([...FILES.alpha, ...FILES.beta]));

  // The CLI: c (first --server) does not answer, so b is asked; b's answer lacks c: a warning, the count of a and b, exit 0.
  const fallback = await runLogship(["search", "--server", c.url, "--server", b.url, "--count", "NOT shared"], { LOGSHIP_TOKEN: SEARCH_TOKEN });
  assert.deepEqual([fallback.code, fallback.stdout], [0, `${FILES.alpha.length + FILES.beta.length}\n`], fallback.stderr);
  const warnings = fallback.stderr.trimEnd().split("\n");
  assert.equal(warnings.length, 2, fallback.stderr);
  assert.match(warnings[0] as string, new RegExp(`^logship: warning: no answer from ${c.url}/v1/search.*; asking ${b.url}$`));
  assert.match(warnings[1] as string, new RegExp(`^logship: warning: partial answer from ${b.url}: peer ${c.url} is missing \\(no answer: .+\\)$`));
  // Nothing matches: exit 1 even when partial (the warning still says what was not searched).
  const none = await search(a, "gamma");
  assert.equal(none.code, 1);
  assert.match(none.stderr, new RegExp(`peer ${c.url} is missing`));
});
