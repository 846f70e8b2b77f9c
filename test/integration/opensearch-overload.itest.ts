/**
 * The opensearch sink against a real node that is overloaded: a node of its
 * own with one write thread and a write queue of two (the script's
 * OPENSEARCH_WRITE_QUEUE_SIZE), so two bulk requests in flight into an
 * index of 4 shards (8 shard tasks for 3 places) are refused in part, item
 * by item, with 429 (es_rejected_execution_exception):
 * - the sink answers `retry` with a pause, and a send during the pause
 *   sends nothing;
 * - the runner's next sends of the same events carry only the items that
 *   failed: no event answered 2xx is ever sent again, every one answered
 *   429 is;
 * - in the end every event is stored once.
 * The client is the real one, only counting what goes through it.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { silentLogger } from "../../shared/logger.ts";
import { OpenSearchClient, type OpenSearchResponse, type RequestOptions } from "../../collector/opensearch/client.ts";
import { IndexNames } from "../../collector/opensearch/index-name.ts";
import { OpenSearchSink } from "../../collector/sinks/opensearch/sink.ts";
import type { SendOutcome, SinkEvent } from "../../collector/sinks/types.ts";
import { startOpenSearch, stopOpenSearch } from "../engines/opensearch.ts";
import { countDocuments, deleteIndices, documentIds, testClient } from "../helpers/opensearch-index.ts";

/** A node of its own: its thread pool settings are static. */
const PORT = 29230;
const TEMPLATE = "itest-overload-{tenant}-%Y.%m.%d";
const EVENTS = 1000;
/** Sends before giving up (each waits out the sink's pause). */
const SENDS_MAX = 200;

/** One `_bulk` request: the ids it carried and each item's status. */
interface BulkExchange {
  ids: string[];
  statuses: number[];
}

/** The real client, recording every `_bulk` request's ids and item statuses. */
class RecordingClient extends OpenSearchClient {
  readonly exchanges: BulkExchange[] = [];

  override async request(method: "GET" | "PUT" | "POST" | "DELETE" | "HEAD", path: string, options: RequestOptions = {}): Promise<OpenSearchResponse> {
    const response = await super.request(method, path, options);
    if (path.startsWith("/_bulk")) {
      const lines = String(options.body).trimEnd().split("\n");
      const ids = lines.filter((_, index) => index % 2 === 0).map((line) => (JSON.parse(line) as { create: { _id: string } }).create._id);
      const items = (response.body as { items?: Record<string, { status: number }>[] } | null)?.items ?? [];
      // A request refused whole (no items) refused each of its items.
      this.exchanges.push({ ids, statuses: items.length === 0 ? ids.map(() => response.status) : items.map((item) => Object.values(item)[0]?.status ?? response.status) });
    }
    return response;
  }
}

let url = "";

before(() => {
  url = startOpenSearch({ port: PORT, writeQueueSize: 2 }).url;
});

after(() => stopOpenSearch({ port: PORT }));

function events(): SinkEvent[] {
  return Array.from({ length: EVENTS }, (_, index) => {
    const time = new Date(Date.parse("2026-11-25T00:00:00Z") + index).toISOString();
    return { id: `overload-${String(index).padStart(5, "0")}`, time, observed_time: time, host: "web-1", source: "app", path: "/var/log/app.log", offset: index * 100, message: `line ${index}`, fields: {}, tenant: "a" };
  });
}

test("an overloaded node (429 per item): the sink pauses every send, resends only the failed items, and stores everything once", { timeout: 240_000 }, async () => {
  const admin = testClient(url);
  await deleteIndices(admin, "itest-overload-*");
  const client = new RecordingClient({ url, timeoutMs: 60_000, connections: 4 });
  const sink = new OpenSearchSink({ client, names: new IndexNames(TEMPLATE), gzip: false, bulkBytesMax: 1 << 20, bulkEventsMax: 100, template: { shards: 4, replicas: 0 }, logger: silentLogger });
  const written = events();
  const outcomes: SendOutcome[] = [];
  let pausedSends = 0;
  for (let send = 0; send < SENDS_MAX; send++) {
    const outcome = await sink.send(written, new AbortController().signal);
    outcomes.push(outcome);
    if (outcome.kind !== "retry") break;
    const reason = outcome.reason ?? "";
    if (reason.includes("the sink pauses")) pausedSends++;
    else if (reason.includes("429")) {
      // At once, inside the pause: nothing may go out.
      const requestsBefore = client.exchanges.length;
      const during = await sink.send(written, new AbortController().signal);
      assert.equal(during.kind, "retry");
      assert.match(during.kind === "retry" ? (during.reason ?? "") : "", /overloaded \(429\); the sink pauses/);
      assert.equal(client.exchanges.length, requestsBefore, "a send during the pause sends nothing");
      pausedSends++;
    }
    await new Promise((resolve) => setTimeout(resolve, outcome.afterMs ?? 100));
  }
  assert.deepEqual(outcomes.at(-1), { kind: "delivered" });
  const throttled = outcomes.filter((outcome) => outcome.kind === "retry" && /429/.test(outcome.reason ?? ""));
  assert.ok(throttled.length > 0 && pausedSends > 0, "the node refused items with 429 and the sink paused");
  assert.ok(throttled.every((outcome) => outcome.kind === "retry" && (outcome.afterMs ?? 0) > 0), "a 429 retry names its pause");

  const stored = new Set<string>();
  const refused = new Set<string>();
  let rejectedItems = 0;
  for (const exchange of client.exchanges) {
    assert.equal(exchange.statuses.length, exchange.ids.length, "one status per item");
    exchange.ids.forEach((id, item) => {
      assert.ok(!stored.has(id), `${id} was stored and sent again`);
      const status = exchange.statuses[item] as number;
      if (status >= 200 && status < 300) {
        stored.add(id);
        refused.delete(id);
      } else {
        assert.equal(status, 429, `${id}: ${status}`);
        refused.add(id);
        rejectedItems++;
      }
    });
  }
  assert.ok(rejectedItems > 0, "items were refused");
  assert.equal(refused.size, 0, "every refused item was sent again until stored");
  assert.equal(stored.size, EVENTS);
  assert.equal(await countDocuments(admin, "itest-overload-*"), EVENTS);
  assert.deepEqual(await documentIds(admin, "itest-overload-*"), written.map((event) => event.id));
  await sink.close();
  await admin.close();
});
