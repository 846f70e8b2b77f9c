/**
 * `logship search` as an operator runs it: an agent tails two files into
 * a real collector (`logship collector`, whose default config indexes into
 * the embedded search sink), and the CLI finds exactly the lines written,
 * counted against the generator, in both orders and every output format;
 * exit 1 when nothing matches, 2 with a caret for a broken query.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CollectorStatusJson } from "../../collector/admin/status.ts";
import type { Event } from "../../shared/event.ts";
import { INGEST_TOKEN, agentSetup, collectorSetup, runLogship, until, waitDelivered } from "../helpers/processes.ts";
import { cleanups } from "../helpers/cleanups.ts";

const ADMIN_TOKEN = "e2e-admin-token";
const SEARCH_TOKEN = "e2e-search-token";
const OPERATOR_TOKENS = `  - { token: ${ADMIN_TOKEN}, tenant: default, role: admin }\n  - { token: ${SEARCH_TOKEN}, tenant: default, role: search }\n`;

const APP_LINES = Array.from({ length: 600 }, (_, index) => `${index % 10 === 0 ? "ERROR" : "INFO"} request ${index} took ${index % 7}ms user=u${index % 3}`);
const JOB_LINES = Array.from({ length: 200 }, (_, index) => `job ${index} done status=${index % 4 === 0 ? "failed" : "ok"}`);

test("logship search finds exactly the lines an agent shipped: counts per query, --count, --order asc, text/json/ndjson, exit 1 on no match and 2 with a caret on a broken query", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-e2e-search-"));
  const defer = cleanups(t);
  defer(() => rmSync(directory, { recursive: true, force: true }));
  const appLog = join(directory, "app.log");
  const jobsLog = join(directory, "jobs.log");
  await writeFile(appLog, APP_LINES.map((line) => `${line}\n`).join(""));
  await writeFile(jobsLog, JOB_LINES.map((line) => `${line}\n`).join(""));
  const collectorConfig = await collectorSetup(join(directory, "collector"), OPERATOR_TOKENS);
  const collector = await collectorConfig.start();
  defer(() => collector.kill());
  const agentConfig = await agentSetup(join(directory, "agent"), [collectorConfig.url], [appLog, jobsLog]);
  const agent = await agentConfig.start();
  defer(() => agent.kill());
  await waitDelivered(agentConfig, [appLog, jobsLog], 60_000);
  // Acknowledged means in the log; the search sink indexes after that. Its lag in /v1/status says when it caught up.
  await until("the search sink to index all 800 events", 30_000, async () => {
    const response = await fetch(`${collectorConfig.url}/v1/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const status = (await response.json()) as CollectorStatusJson;
    const search = status.sinks.find((sink) => sink.sink === "search" && sink.tenant === "default");
    return search !== undefined && search.end_offset === 800 && search.committed_offset === 800 && search.lag.events === 0 ? true : undefined;
  });
  const search = (...args: string[]) => runLogship(["search", "--config", collectorConfig.configPath, ...args]);

  // Counts against the generator, one query per operator family.
  const written = [...APP_LINES, ...JOB_LINES];
  const counts: [string, (line: string) => boolean][] = [
    ["ERROR", (line) => line.startsWith("ERROR")],
    ["error -u0", (line) => line.startsWith("ERROR") && !line.endsWith("user=u0")],
    ['"status failed"', (line) => line.endsWith("status=failed")],
    ["request AND (u1 OR u2)", (line) => line.includes(" request ") && !line.endsWith("user=u0")],
    ["/took [0-2]ms/", (line) => /took [0-2]ms/.test(line)],
    ["jo*", (line) => line.startsWith("job ")],
    ["host:e2e-host", () => true],
    [`path:${JSON.stringify(jobsLog)}`, (line) => line.startsWith("job ")],
    ["", () => true],
  ];
  for (const [query, matches] of counts) {
    const expected = written.filter(matches).length;
    assert.ok(expected > 0);
    const run = await search("--count", query);
    assert.deepEqual([run.code, run.stdout, run.stderr], [0, `${expected}\n`, ""], `--count ${JSON.stringify(query)}`);
  }

  // Every line once, newest first; --order asc is the same list reversed.
  const desc = await search("--limit", "1000", "--output", "ndjson", "");
  const asc = await search("--limit", "1000", "--output", "ndjson", "--order", "asc", "");
  assert.equal(desc.code, 0, desc.stderr);
  const descEvents = desc.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Event);
  const ascEvents = asc.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Event);
  assert.deepEqual(descEvents.map((event) => event.message).sort(), [...written].sort());
  assert.deepEqual(ascEvents.map((event) => event.id), descEvents.map((event) => event.id).reverse());
  assert.ok(ascEvents.every((event, index) => index === 0 || (ascEvents[index - 1] as Event).time <= event.time));
  const appEvent = descEvents.find((event) => event.message === "INFO request 42 took 0ms user=u0");
  assert.deepEqual([appEvent?.host, appEvent?.source, appEvent?.path], ["e2e-host", "e2e", appLog]);

  // Text: time host source message, no colour when stdout is not a terminal; --limit stops early.
  const text = await search("request 42");
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout, `${appEvent?.time} e2e-host e2e INFO request 42 took 0ms user=u0\n`);
  const five = await search("--limit", "5", "--order", "asc", "job");
  assert.deepEqual(five.stdout.trimEnd().split("\n").map((line) => line.split(" ").slice(1).join(" ")), ascEvents.filter((event) => event.message.startsWith("job ")).slice(0, 5).map((event) => `e2e-host e2e ${event.message}`));
  const json = await search("--output", "json", "--limit", "3", "ERROR");
  const page = JSON.parse(json.stdout) as { events: Event[]; cursor: string | null; partial: boolean };
  assert.equal(page.events.length, 3);
  assert.ok(page.events.every((event) => event.message.startsWith("ERROR ")));
  assert.equal(typeof page.cursor, "string");
  assert.equal(page.partial, false);

  // No match: exit 1 like grep, nothing printed; --count prints 0.
  assert.deepEqual(await search("nosuchword"), { code: 1, stdout: "", stderr: "" });
  assert.deepEqual(await search("--count", "nosuchword"), { code: 1, stdout: "0\n", stderr: "" });

  // A broken query: exit 2, the message and a caret under the column; nothing asked.
  const broken = await search("host:web-1 AND (level:error");
  assert.deepEqual(broken, { code: 2, stdout: "", stderr: "logship: invalid query at column 16: unclosed (: it needs a )\n  host:web-1 AND (level:error\n                 ^\n" });

  // --server with LOGSHIP_TOKEN; an ingest token is refused (exit 2, the collector's reason).
  const byServer = await runLogship(["search", "--server", collectorConfig.url, "--count", "ERROR"], { LOGSHIP_TOKEN: SEARCH_TOKEN });
  assert.deepEqual([byServer.code, byServer.stdout], [0, "60\n"]);
  const ingest = await runLogship(["search", "--server", collectorConfig.url, "--token", INGEST_TOKEN, "ERROR"]);
  assert.deepEqual(ingest, { code: 2, stdout: "", stderr: `logship: ${collectorConfig.url} answered 403: token role "ingest" may not do this (needs search or admin)\n` });
  const badSince = await search("--since", "yesterday", "ERROR");
  assert.equal(badSince.code, 2);
  assert.match(badSince.stderr, /answered 400: since: expected an RFC 3339 time/);
});
