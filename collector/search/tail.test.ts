import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { request } from "undici";
import type { Event } from "../../shared/event.ts";
import { silentLogger } from "../../shared/logger.ts";
import { recordingLogger, type LoggedLine } from "../testing/recording-logger.ts";
import { TOKENS, lineEvent, openTail, startRouteServer, temporaryDirectory, type TailClient } from "../testing/search-routes.ts";
import { SearchIndex } from "./search-index.ts";
import { createVersion3Partitions } from "../testing/partition-v3.ts";

const DAY_1 = "2026-11-29";
const DAY_2 = "2026-11-30";

/** `count` events of one file from `first`, alternately on two days (two partitions), ERROR every third. */
function interleaved(first: number, count: number): Event[] {
  return Array.from({ length: count }, (_, index) => {
    const line = first + index;
    const day = line % 2 === 0 ? DAY_1 : DAY_2;
    return lineEvent({ line, time: `${day}T10:00:00.000Z`, message: `${line % 3 === 0 ? "ERROR" : "INFO"} line ${line}` });
  });
}

function messages(client: TailClient): string[] {
  return client.events().map(({ event }) => event.message);
}

test("GET /v1/tail: Server-Sent Events, each matching event as `id: <position>` + `data: <event JSON>`, from now on; a start id first, `: ping` heartbeats", async (t) => {
  const server = await startRouteServer(temporaryDirectory(t), silentLogger, { heartbeatMs: 50 });
  t.after(() => server.close());
  await server.index.write("a", interleaved(0, 10));

  const tail = await openTail(server.url, "/v1/tail?q=ERROR", TOKENS.a);
  t.after(() => tail.close());
  assert.equal(tail.status, 200);
  assert.equal(tail.headers["content-type"], "text/event-stream; charset=utf-8");
  assert.equal(tail.headers["cache-control"], "no-cache");
  await tail.until(() => tail.received.length >= 1, "the start position");
  const start = tail.received[0];
  assert.deepEqual(start, { lastEventId: String(server.index.sequence("a")), data: null }, "an id-only message: where the stream starts");
  assert.match(tail.text(), /^retry: 1000\nid: \d+\n\n/);

  const written = interleaved(10, 30);
  await server.index.write("a", written.slice(0, 15));
  await server.index.write("a", written.slice(15));
  const expected = written.filter((event) => event.message.startsWith("ERROR"));
  await tail.until(() => tail.events().length === expected.length, "the new ERROR events");
  assert.deepEqual(tail.events().map(({ event }) => event), expected, "only new events, only matches, in the order they were indexed, in the DESIGN.md shape");
  const ids = tail.events().map(({ id }) => Number(id));
  assert.ok(ids.every((id, index) => index === 0 ? id > Number(start?.lastEventId) : id > (ids[index - 1] as number)), "positions rise");
  for (const { id, event } of tail.events()) assert.ok(tail.text().includes(`\nid: ${id}\ndata: ${JSON.stringify(event)}\n\n`), "one message per event: id line, data line, blank line");
  await tail.until(() => tail.text().includes(": ping\n"), "a heartbeat");
  // A row read that did not match: a heartbeat carries the position past it (a reconnect need not read it again), once.
  await server.index.write("a", [lineEvent({ line: 1000, time: `${DAY_1}T11:00:00.000Z`, message: "INFO quiet" })]);
  const past = String(server.index.sequence("a"));
  await tail.until(() => tail.received.some((message) => message.lastEventId === past), "a heartbeat with the position past the row");
  assert.ok(tail.text().includes(`: ping\nid: ${past}\n\n`));
  assert.deepEqual(tail.received.filter((message) => message.lastEventId === past), [{ lastEventId: past, data: null }]);
  assert.equal(tail.events().length, expected.length);
});

for (const format of ["current", "version 3"] as const) test(`GET /v1/tail resumes after Last-Event-ID (or last_event_id) without gaps or repeats, across partitions, chunks and a restart of the index (${format} partitions)`, async (t) => {
  const directory = temporaryDirectory(t);
  if (format === "version 3") createVersion3Partitions(directory, "a", interleaved(0, 2));
  let server = await startRouteServer(directory, silentLogger);
  t.after(() => server.close());
  // 5 writes of 300 events over two days: more rows per partition than one read takes, sequences interleaved between the files.
  const written: Event[] = [];
  for (let write = 0; write < 5; write++) {
    const events = interleaved(write * 300, 300);
    await server.index.write("a", events);
    written.push(...events);
  }
  const everything = await openTail(server.url, "/v1/tail?last_event_id=0", TOKENS.a);
  await everything.until(() => everything.events().length === written.length, "every event from position 0");
  everything.close();
  assert.deepEqual(messages(everything), written.map((event) => event.message), "in the order they were indexed");
  const ids = everything.events().map(({ id }) => id);

  for (const [after, q] of [[0, ""], [199, ""], [777, "ERROR"], [1234, "-ERROR"], [1499, ""]] as const) {
    const expected = written.slice(after + 1).filter((event) => (q === "" ? true : q === "ERROR" ? event.message.startsWith("ERROR") : !event.message.startsWith("ERROR")));
    const resumed = await openTail(server.url, `/v1/tail?${new URLSearchParams({ q })}`, TOKENS.a, { "last-event-id": ids[after] as string });
    await resumed.until(() => resumed.events().length === expected.length, `the events after #${after}`);
    assert.deepEqual(messages(resumed), expected.map((event) => event.message), `after #${after} ${JSON.stringify(q)}`);
    resumed.close();
  }
  // The header wins over the parameter (an EventSource keeps its first URL when it reconnects).
  const both = await openTail(server.url, `/v1/tail?last_event_id=0`, TOKENS.a, { "last-event-id": ids[1497] as string });
  await both.until(() => both.events().length === 2, "the last two events");
  assert.deepEqual(messages(both), written.slice(-2).map((event) => event.message));
  both.close();

  // A follower at the end; the index closes (the collector stops) and opens again on the same files.
  const follower = await openTail(server.url, "/v1/tail", TOKENS.a, { "last-event-id": ids.at(-1) as string });
  const before = interleaved(1500, 20);
  await server.index.write("a", before);
  await follower.until(() => follower.events().length === 20, "events before the restart");
  const lastSeen = follower.events().at(-1)?.id as string;
  await server.close();
  await follower.until(() => follower.ended(), "the stream to end with the server");
  server = await startRouteServer(directory, silentLogger);
  const during = interleaved(1520, 20);
  await server.index.write("a", during);
  const resumed = await openTail(server.url, "/v1/tail", TOKENS.a, { "last-event-id": lastSeen });
  await resumed.until(() => resumed.events().length === 20, "the events indexed while the client was away");
  const after = interleaved(1540, 20);
  await server.index.write("a", after);
  await resumed.until(() => resumed.events().length === 40, "the events indexed after it came back");
  assert.deepEqual([...messages(follower), ...messages(resumed)], [...before, ...during, ...after].map((event) => event.message), "no gap, no repeat across the restart");
  assert.ok(Number(resumed.events()[0]?.id) > Number(lastSeen), "sequences keep rising after a restart");
  resumed.close();
});

test("index sequences: recovered from the partitions, floored by the clock; ids already stored keep theirs", async (t) => {
  const directory = temporaryDirectory(t);
  let nowMs = 1_000;
  const index = new SearchIndex({ directory, nowMs: () => nowMs });
  assert.equal(index.sequence("a"), 0);
  await index.write("a", interleaved(0, 4));
  assert.equal(index.sequence("a"), 1_003, "from the clock, one per event");
  nowMs = 500;
  await index.write("a", interleaved(4, 2));
  assert.equal(index.sequence("a"), 1_005, "a clock behind the last sequence does not lower it");
  await index.write("a", interleaved(0, 2));
  assert.equal(index.sequence("a"), 1_007, "duplicates use up numbers but keep their rows");
  await index.close();
  const reopened = new SearchIndex({ directory, nowMs: () => 0 });
  assert.equal(reopened.sequence("a"), 1_005, "recovered: the highest stored");
  assert.equal(reopened.sequence("b"), 0);
  await reopened.close();
});

test("GET /v1/tail reads one tenant: a token's own, another only for an admin; tenant b never sees tenant a's events", async (t) => {
  const server = await startRouteServer(temporaryDirectory(t), silentLogger);
  t.after(() => server.close());
  const ofB = await openTail(server.url, "/v1/tail", TOKENS.b);
  const ofA = await openTail(server.url, "/v1/tail?tenant=a", TOKENS.admin);
  const ownA = await openTail(server.url, "/v1/tail", TOKENS.a);
  t.after(() => [ofB, ofA, ownA].forEach((client) => client.close()));
  await ofB.until(() => ofB.received.length > 0 && ofA.received.length > 0 && ownA.received.length > 0, "the streams to start");
  await server.index.write("a", [lineEvent({ line: 1, time: `${DAY_1}T10:00:00.000Z`, message: "secret of a" })]);
  await server.index.write("b", [lineEvent({ line: 1, time: `${DAY_1}T10:00:00.000Z`, message: "hello from b" })]);
  await ofB.until(() => ofB.events().length === 1 && ofA.events().length === 1 && ownA.events().length === 1, "one event each");
  assert.deepEqual(messages(ofB), ["hello from b"]);
  assert.deepEqual(messages(ofA), ["secret of a"]);
  assert.deepEqual(messages(ownA), ["secret of a"]);
  // Tenant b from position 0: still only its own.
  const fromStart = await openTail(server.url, "/v1/tail?last_event_id=0", TOKENS.b);
  await fromStart.until(() => fromStart.events().length === 1, "b's event");
  assert.deepEqual(messages(fromStart), ["hello from b"]);
  fromStart.close();

  const refused = await openTail(server.url, "/v1/tail?tenant=a", TOKENS.b);
  await refused.until(() => refused.ended(), "the refusal");
  assert.deepEqual([refused.status, JSON.parse(refused.text()).code], [403, "LOGSHIP_AUTH_FORBIDDEN"]);
});

test("GET /v1/tail refuses what it cannot follow: a broken query (with its column), a bad position, unknown parameters, ingest tokens, too many streams", async (t) => {
  const server = await startRouteServer(temporaryDirectory(t), silentLogger, { streamsMax: 2 });
  t.after(() => server.close());
  const refusal = async (path: string, token: string | undefined, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; retryAfter: unknown }> => {
    const response = await request(`${server.url}${path}`, { headers: { ...headers, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) } });
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown>, retryAfter: response.headers["retry-after"] };
  };
  const broken = await refusal(`/v1/tail?${new URLSearchParams({ q: "level:error AND (timeout" })}`, TOKENS.a);
  assert.deepEqual([broken.status, broken.body], [400, { error: "invalid query at column 17: unclosed (: it needs a )", code: "LOGSHIP_QUERY", column: 17 }]);
  const cases: [string, Record<string, string>, number, string, RegExp][] = [
    ["/v1/tail", { "last-event-id": "yesterday" }, 400, "LOGSHIP_SEARCH_REQUEST", /^Last-Event-ID: expected a position the tail sent \(a whole number\); got "yesterday"$/],
    ["/v1/tail?last_event_id=-1", {}, 400, "LOGSHIP_SEARCH_REQUEST", /^last_event_id: expected a position/],
    ["/v1/tail?last_event_id=99999999999999999", {}, 400, "LOGSHIP_SEARCH_REQUEST", /^last_event_id: /],
    ["/v1/tail?since=1h", {}, 400, "LOGSHIP_SEARCH_REQUEST", /^unknown parameter "since" \(expected q, tenant, last_event_id\)$/],
    ["/v1/tail?tenant=..%2Fx", {}, 403, "LOGSHIP_AUTH_FORBIDDEN", /needs an admin token/],
  ];
  for (const [path, headers, status, code, message] of cases) {
    const answer = await refusal(path, TOKENS.a, headers);
    assert.deepEqual([answer.status, answer.body["code"]], [status, code], path);
    assert.match(String(answer.body["error"]), message, path);
  }
  assert.deepEqual((await refusal("/v1/tail", TOKENS.ingest)).body["code"], "LOGSHIP_AUTH_FORBIDDEN");
  assert.deepEqual((await refusal("/v1/tail", undefined)).body["code"], "LOGSHIP_AUTH_MISSING");

  const first = await openTail(server.url, "/v1/tail", TOKENS.a);
  const second = await openTail(server.url, "/v1/tail", TOKENS.b);
  await first.until(() => first.received.length > 0 && second.received.length > 0, "two open streams");
  const third = await refusal("/v1/tail", TOKENS.a);
  assert.deepEqual([third.status, third.body["code"], third.retryAfter], [503, "LOGSHIP_TAIL_BUSY", "1"]);
  // A closed stream frees its place.
  first.close();
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = await openTail(server.url, "/v1/tail", TOKENS.a);
    client.close();
    if (client.status === 200) break;
    assert.ok(Date.now() < deadline, "a place to free up after a stream closed");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  second.close();
});

test("GET /v1/tail closes the stream of a client that takes nothing, with a warning", async (t) => {
  const lines: LoggedLine[] = [];
  const server = await startRouteServer(temporaryDirectory(t), recordingLogger(lines), { drainTimeoutMs: 200 });
  t.after(() => server.close());
  // A client that sends its request and never reads.
  const { port, hostname } = new URL(server.url);
  const socket = connect(Number(port), hostname);
  t.after(() => socket.destroy());
  socket.pause();
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  // From position 0: every event is for it, whenever the stream starts.
  socket.write(`GET /v1/tail?last_event_id=0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKENS.a}\r\n\r\n`);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  // Far more than socket buffers hold: 400 events of 64 KiB.
  const padding = "x".repeat(64 * 1024);
  for (let write = 0; write < 8; write++) {
    await server.index.write("a", Array.from({ length: 50 }, (_, index) => lineEvent({ line: write * 50 + index, time: `${DAY_1}T10:00:00.000Z`, message: `${write * 50 + index} ${padding}` })));
  }
  await until(() => lines.some((line) => line.message.startsWith("tail client too slow")), "the warning");
  const warning = lines.find((line) => line.message.startsWith("tail client too slow"));
  assert.equal(warning?.level, "warn");
  assert.deepEqual([warning?.context["tenant"], warning?.context["drain_timeout_ms"]], ["a", 200]);
  socket.resume();
  await closed;
});

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
