/**
 * Acceptance (issue 10): 1,000,000 lines through real processes — a
 * `logship agent` tailing 4 files, a `logship collector` whose search sink
 * is a real OpenSearch node — end with `_count` equal to the lines written;
 * `logship replay` of the whole range (offset 0) then re-delivers every
 * event and `_count` stays the same (the event id is the document _id).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOpenSearch, stopOpenSearch } from "../engines/opensearch.ts";
import { countDocuments, deleteIndices, deleteTestTemplates, testClient } from "../helpers/opensearch-index.ts";
import { collectorStatus, openSearchPipeline, searchSinkRow } from "../helpers/opensearch-pipeline.ts";
import { cleanups } from "../helpers/cleanups.ts";
import { runLogship, until, waitDelivered, writeNumbered } from "../helpers/processes.ts";

const NAMES = ["a", "b", "c", "d"];
const LINES_PER_FILE = 250_000;
const TOTAL = NAMES.length * LINES_PER_FILE;
/** Upper bounds for stages that only run out when something is wrong. */
const DELIVERY_TIMEOUT_MS = 600_000;

test("1,000,000 lines agent → collector → OpenSearch: _count equals the lines written; a replay of the whole range leaves it unchanged", { timeout: 1_800_000 }, async (t) => {
  const defer = cleanups(t);
  const node = startOpenSearch();
  defer(() => stopOpenSearch());
  const client = testClient(node.url);
  defer(() => client.close());
  await deleteTestTemplates(client);
  const template = "itest-million-{tenant}-%Y.%m.%d";
  const pattern = "itest-million-default-*";
  await deleteIndices(client, "itest-million-*");
  const directory = await mkdtemp(join(tmpdir(), "logship-opensearch-million-"));
  defer(() => rm(directory, { recursive: true, force: true }));
  const pipeline = await openSearchPipeline(directory, node.url, template, NAMES);
  await Promise.all(pipeline.paths.map((path, index) => writeNumbered(path, NAMES[index] as string, LINES_PER_FILE, { batchLines: 50_000, pauseMs: 0 })));
  const collector = await pipeline.collector.start();
  defer(() => collector.kill());
  const agent = await pipeline.agent.start();
  defer(() => agent.kill());
  await waitDelivered(pipeline.agent, pipeline.paths, DELIVERY_TIMEOUT_MS);
  const caughtUp = async (replays: number): Promise<true | undefined> => {
    const status = await collectorStatus(pipeline.collector);
    const row = status === null ? undefined : searchSinkRow(status);
    return row !== undefined && row.end_offset === TOTAL && row.lag.events === 0 && row.replays === replays ? true : undefined;
  };
  await until("the opensearch sink to confirm every event", DELIVERY_TIMEOUT_MS, () => caughtUp(0));
  assert.equal(await countDocuments(client, pattern), TOTAL);
  const first = searchSinkRow((await collectorStatus(pipeline.collector)) ?? assert.fail("no status"));
  assert.deepEqual([first?.delivered_events, first?.rejected_events], [TOTAL, 0]);

  const replay = await runLogship(["replay", "--config", pipeline.collector.configPath, "--sink", "search", "--from", "0", "--json"]);
  assert.equal(replay.code, 0, replay.stderr);
  assert.equal((JSON.parse(replay.stdout) as { replayed_events: number }).replayed_events, TOTAL);
  await until("the replay to be delivered", DELIVERY_TIMEOUT_MS, () => caughtUp(1));
  const again = searchSinkRow((await collectorStatus(pipeline.collector)) ?? assert.fail("no status"));
  assert.deepEqual([again?.delivered_events, again?.rejected_events], [2 * TOTAL, 0], "every event was sent again");
  assert.equal(await countDocuments(client, pattern), TOTAL, "the replay stored nothing twice");
  await agent.kill();
  await collector.kill();
  assert.equal((await collector.exited).code, 0);
});
