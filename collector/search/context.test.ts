import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "undici";
import type { Event } from "../../shared/event.ts";
import { silentLogger } from "../../shared/logger.ts";
import { TOKENS, lineEvent, startRouteServer, temporaryDirectory, type RouteServer } from "../testing/search-routes.ts";
import { createVersion3Partitions } from "../testing/partition-v3.ts";

const TEN_MINUTES_MS = 600_000;
/** Line n of the file at 22:00 + n·10 min: lines 12 on are on the next day (another partition), each 10 minutes from its neighbours. */
const FILE = Array.from({ length: 20 }, (_, line) => lineEvent({ line, time: new Date(Date.parse("2026-11-29T22:00:00Z") + line * TEN_MINUTES_MS).toISOString(), message: `app line ${line}` }));
/** Lines that share offsets or times with FILE but are other files: an earlier file rotated away from the same path, another host, another path. */
const OTHERS = FILE.flatMap((event, line) => [
  { ...lineEvent({ line, stream: "streamOLDOLDOLDO", time: event.time }), message: `rotated line ${line}` },
  { ...lineEvent({ line, stream: "streamWEB2WEB2WE", host: "web-2", time: event.time }), message: `web-2 line ${line}` },
  { ...lineEvent({ line, stream: "streamOTHEROTHER", path: "/var/log/other.log", time: event.time }), message: `other line ${line}` },
]);
/** 50 lines written in one millisecond. */
const BURST = Array.from({ length: 50 }, (_, line) => lineEvent({ line, stream: "streamBURSTBURST", path: "/var/log/burst.log", time: "2026-11-29T12:00:00.000Z", message: `burst ${line}` }));

interface ContextAnswer {
  status: number;
  body: { event?: Event; before?: Event[]; after?: Event[]; code?: string; error?: string };
}

async function context(server: RouteServer, parameters: Record<string, string>, token: string): Promise<ContextAnswer> {
  const response = await request(`${server.url}/v1/context?${new URLSearchParams(parameters)}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.statusCode, body: (await response.body.json()) as ContextAnswer["body"] };
}

/** The partition formats context is read from: the current one (4, blocks by offset) and version 3 (SQL in time windows). */
const FORMATS = ["current", "version 3"] as const;

async function indexed(t: { after: (fn: () => unknown) => void }, format: (typeof FORMATS)[number]): Promise<RouteServer> {
  const directory = temporaryDirectory(t);
  if (format === "version 3") for (const tenant of ["a", "b"]) createVersion3Partitions(directory, tenant, [...FILE, ...BURST]);
  const server = await startRouteServer(directory, silentLogger);
  t.after(() => server.close());
  // Interleaved as several agents would send them.
  await server.index.write("a", [...OTHERS.slice(0, 30), ...FILE.slice(0, 10), ...BURST, ...OTHERS.slice(30), ...FILE.slice(10)]);
  await server.index.write("b", [lineEvent({ line: 1, stream: "streamBBBBBBBBBB", time: "2026-11-29T22:00:00.000Z", message: "b's line" })]);
  return server;
}

function lineMessages(events: Event[] | undefined): string[] {
  return (events ?? []).map((event) => event.message);
}

for (const format of FORMATS) test(`GET /v1/context: the N lines before and after an event in its file, by offset, across partitions and however far apart in time (${format} partitions)`, async (t) => {
  const server = await indexed(t, format);
  const cases: [Event, number, number, string[], string[]][] = [
    [FILE[5] as Event, 2, 2, ["app line 3", "app line 4"], ["app line 6", "app line 7"]],
    // 11 is on the first day, 12 and 13 on the next.
    [FILE[11] as Event, 1, 2, ["app line 10"], ["app line 12", "app line 13"]],
    [FILE[0] as Event, 3, 1, [], ["app line 1"]],
    [FILE[19] as Event, 2, 3, ["app line 17", "app line 18"], []],
    [FILE[19] as Event, 100, 0, FILE.slice(0, 19).map((event) => event.message), []],
    [FILE[7] as Event, 0, 0, [], []],
    [BURST[25] as Event, 3, 2, ["burst 22", "burst 23", "burst 24"], ["burst 26", "burst 27"]],
  ];
  for (const [event, before, after, expectedBefore, expectedAfter] of cases) {
    const answer = await context(server, { id: event.id, before: String(before), after: String(after) }, TOKENS.a);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body.event, event);
    assert.deepEqual([lineMessages(answer.body.before), lineMessages(answer.body.after)], [expectedBefore, expectedAfter], `${event.message} -B ${before} -A ${after}`);
  }
  const defaults = await context(server, { id: (FILE[3] as Event).id }, TOKENS.a);
  assert.deepEqual([defaults.body.before, defaults.body.after], [[], []], "no lines unless asked");
});

for (const format of FORMATS) test(`GET /v1/context reads one tenant's index: another tenant's event is not found, and a search token cannot name another tenant (${format} partitions)`, async (t) => {
  const server = await indexed(t, format);
  const id = (FILE[5] as Event).id;
  const foreign = await context(server, { id, before: "2", after: "2" }, TOKENS.b);
  assert.deepEqual([foreign.status, foreign.body.code], [404, "LOGSHIP_EVENT_NOT_FOUND"]);
  assert.equal(foreign.body.error, `no event "${id}" in tenant b's index`);
  const named = await context(server, { id, tenant: "a" }, TOKENS.b);
  assert.deepEqual([named.status, named.body.code], [403, "LOGSHIP_AUTH_FORBIDDEN"]);
  const admin = await context(server, { id, tenant: "a", before: "1" }, TOKENS.admin);
  assert.deepEqual([admin.status, lineMessages(admin.body.before)], [200, ["app line 4"]]);
  // b's own line has no neighbours of tenant a's, though a's file shares its host and path.
  const own = await context(server, { id: "streamBBBBBBBBBB" + (100).toString(36), before: "5", after: "5" }, TOKENS.b);
  assert.deepEqual([own.status, own.body.event?.message, own.body.before, own.body.after], [200, "b's line", [], []]);

  const refusals: [Record<string, string>, RegExp][] = [
    [{}, /^id: the event to show the context of is required$/],
    [{ id, before: "101" }, /^before: expected a whole number from 0 to 100; got "101"$/],
    [{ id, after: "-1" }, /^after: expected a whole number from 0 to 100/],
    [{ id, context: "2" }, /^unknown parameter "context" \(expected id, before, after, tenant\)$/],
  ];
  for (const [parameters, message] of refusals) {
    const answer = await context(server, parameters, TOKENS.a);
    assert.deepEqual([answer.status, answer.body.code], [400, "LOGSHIP_SEARCH_REQUEST"], JSON.stringify(parameters));
    assert.match(answer.body.error ?? "", message);
  }
});
