import { test } from "node:test";
import assert from "node:assert/strict";
import { agentConfigSchema } from "../config.ts";
import { formatIssue, loadConfigText } from "../../shared/config/load.ts";
import { compileTransforms, fnv1a, type TransformChain } from "./chain.ts";
import type { TransformEvent } from "./paths.ts";
import type { TransformsConfig } from "./schema.ts";

/** The chain of `steps` (YAML flow text) as the config loader checks and the agent builds it. */
function chainOf(steps: string): TransformChain {
  const text = `sources:\n  - name: app\n    paths: [/var/log/app.log]\n    transforms: ${steps}\n`;
  const result = loadConfigText(text, "agent.yaml", agentConfigSchema, {});
  if (!result.ok) assert.fail(result.issues.map(formatIssue).join("\n"));
  const chain = compileTransforms(result.config.sources[0]?.transforms as TransformsConfig);
  assert.ok(chain !== null);
  return chain;
}

function event(message: string, fields: Record<string, unknown> = {}, offset = 0): TransformEvent {
  return { host: "web-1", source: "app", path: "/var/log/app.log", offset, time: "2024-01-02T03:04:05.000Z", observed_time: "2024-01-02T03:04:05.000Z", message, fields };
}

/** The events the chain lets through, changed as it changed them. */
function run(chain: TransformChain, events: TransformEvent[], nowMs = 0): TransformEvent[] {
  return events.filter((each) => chain.apply(each, nowMs));
}

test("drop removes matching events and counts them; keep is its opposite", () => {
  // `path` alone is the file's path (a top-level name); a parsed request path is fields.path.
  const drop = chainOf(`[{ drop: 'level:debug OR fields.path:"/healthz"' }]`);
  const events = () => [event("a", { level: "debug" }), event("b", { level: "info" }), event("c", { path: "/healthz" }), event("d error")];
  assert.deepEqual(run(drop, events()).map((each) => each.message), ["b", "d error"]);
  assert.equal(drop.counts[0]?.dropped, 2);
  assert.equal(drop.counts[0]?.step, "0_drop");
  const keep = chainOf(`[{ keep: 'error OR fields.level:info' }]`);
  assert.deepEqual(run(keep, events()).map((each) => each.message), ["b", "d error"]);
  assert.equal(keep.counts[0]?.dropped, 2);
});

test("set takes constants and templates, read before any is written", () => {
  const chain = chainOf(`[{ set: { fields.env: prod, fields.port: 8080, fields.id: '{fields.service}-{host}', fields.service: renamed, fields.raw: '{{x}} {fields.missing}|{fields.obj}', message: '[{source}] {message}' } }]`);
  const [out] = run(chain, [event("hello", { service: "web", obj: { a: 1 } })]);
  assert.deepEqual(out?.fields, { service: "renamed", obj: { a: 1 }, env: "prod", port: 8080, id: "web-web-1", raw: '{x} |{"a":1}' });
  assert.equal(out?.message, "[app] hello");
});

test("a template of host, source and path alone follows each event's stream", () => {
  const chain = chainOf(`[{ set: { fields.origin: '{host}/{source}:{path}' } }]`);
  const other = (message: string): TransformEvent => ({ ...event(message), host: "web-2", path: "/var/log/other.log" });
  const out = run(chain, [event("a"), event("b"), other("c"), event("d")]);
  assert.deepEqual(
    out.map((each) => each.fields.origin),
    ["web-1/app:/var/log/app.log", "web-1/app:/var/log/app.log", "web-2/app:/var/log/other.log", "web-1/app:/var/log/app.log"],
  );
});

test("rename moves a value (into message too) and leaves absent fields alone; remove deletes flat and nested fields", () => {
  const chain = chainOf(`[{ rename: { fields.msg: message, fields.a: fields.b, fields.nope: fields.c } }, { remove: [fields.secret, fields.http.headers] }]`);
  const [out] = run(chain, [event("raw line", { msg: "the message", a: 1, secret: "s", http: { status: 200, headers: { cookie: "x" } } })]);
  assert.equal(out?.message, "the message");
  assert.deepEqual(out?.fields, { b: 1, http: { status: 200 } });
});

test("redact masks the message and listed string fields and counts matches and events", () => {
  const chain = chainOf(`[{ redact: { patterns: [email, credit_card, { regex: 'sk_[a-z0-9]+', name: api_key }], fields: [message, fields.user, fields.count] } }]`);
  const out = run(chain, [event("mail a@example.com card 4111 1111 1111 1111", { user: "b@example.com", other: "c@example.com", count: 4111111111111111 }), event("nothing here"), event("key sk_abc1")]);
  assert.equal(out[0]?.message, "mail [REDACTED:email] card [REDACTED:credit_card]");
  // Only the listed fields, and only string values.
  assert.deepEqual(out[0]?.fields, { user: "[REDACTED:email]", other: "c@example.com", count: 4111111111111111 });
  assert.equal(out[2]?.message, "key [REDACTED:api_key]");
  assert.equal(chain.counts[0]?.redactions, 4);
  assert.equal(chain.counts[0]?.redactedEvents, 2);
  assert.equal(chain.counts[0]?.dropped, 0);
});

test("sample keeps events of one key together, by a stable hash, and never drops exempt events", () => {
  const chain = chainOf(`[{ sample: { rate: 4, key: fields.trace_id, exempt: 'level:error' } }]`);
  const events: TransformEvent[] = [];
  for (let trace = 0; trace < 200; trace++) {
    for (let span = 0; span < 3; span++) events.push(event(`t${trace} s${span}`, { trace_id: `trace-${trace}`, level: span === 2 && trace % 10 === 0 ? "error" : "info" }));
  }
  const kept = run(chain, events);
  const keptTraces = new Set(kept.filter((each) => each.fields.level !== "error").map((each) => each.fields.trace_id));
  for (const trace of keptTraces) assert.equal(kept.filter((each) => each.fields.trace_id === trace && each.fields.level !== "error").length, events.filter((each) => each.fields.trace_id === trace && each.fields.level !== "error").length, `${String(trace)} kept whole`);
  for (const [index, each] of events.entries()) if (each.fields.level !== "error") assert.equal(keptTraces.has(each.fields.trace_id), fnv1a(`trace-${Math.floor(index / 3)}`) % 4 === 0);
  assert.equal(kept.filter((each) => each.fields.level === "error").length, 20, "every error kept");
  assert.ok(keptTraces.size > 20 && keptTraces.size < 80, `about 1 in 4 of 200 traces kept: ${keptTraces.size}`);
  assert.equal(chain.counts[0]?.dropped, events.length - kept.length);
  // Without a key value: every rate-th event.
  const unkeyed = chainOf(`[{ sample: { rate: 3 } }]`);
  assert.deepEqual(run(unkeyed, [0, 1, 2, 3, 4, 5, 6].map((index) => event(`e${index}`))).map((each) => each.message), ["e0", "e3", "e6"]);
});

test("throttle keeps per_second events per key in each second and counts the rest", () => {
  const chain = chainOf(`[{ throttle: { per_second: 2, key: host } }, { throttle: { per_second: 3, key: fields.user, max_keys: 2 } }]`);
  const burst = (nowMs: number, user: string, count: number) => run(chain, Array.from({ length: count }, (_, index) => event(`${user} ${index}`, { user })), nowMs);
  // One host: 2 per second pass the first step, whatever the user.
  assert.equal(burst(1000, "u1", 5).length, 2);
  assert.equal(burst(1999, "u2", 5).length, 0);
  assert.equal(burst(2000, "u2", 5).length, 2, "a new second, a new budget");
  assert.equal(chain.counts[0]?.dropped, 11);
  // The second step alone: per user, and users past max_keys share a budget.
  const users = chainOf(`[{ throttle: { per_second: 1, key: fields.user, max_keys: 2 } }]`);
  const out = run(users, ["a", "a", "b", "c", "d", "a"].map((user) => event(user, { user })), 5000);
  assert.deepEqual(out.map((each) => each.message), ["a", "b", "c"]);
  assert.equal(users.counts[0]?.dropped, 3);
});

test("steps run in order: a dropped event reaches no later step", () => {
  const chain = chainOf(`[{ set: { fields.stage: one } }, { drop: 'fields.stage:one AND skip' }, { redact: { patterns: [email] } }]`);
  const out = run(chain, [event("skip a@example.com"), event("keep a@example.com")]);
  assert.deepEqual(out.map((each) => each.message), ["keep [REDACTED:email]"]);
  assert.deepEqual(chain.counts.map((counts) => [counts.step, counts.dropped, counts.redactions]), [["0_set", 0, 0], ["1_drop", 1, 0], ["2_redact", 0, 1]]);
});

test("no steps: no chain", () => {
  assert.equal(compileTransforms([]), null);
});

test("parse applies a parser to a field: fields merged (or set at into), json's message replaces the message, a failure leaves the event and is counted", () => {
  const chain = chainOf(`[{ parse: { parser: { type: json } } }, { parse: { field: fields.kv, parser: { type: logfmt }, into: fields.parsed } }]`);
  const [json, notJson] = run(chain, [event('{"message":"user login","user":"ann","status":200}', { kv: "a=1 b=two" }), event("plain text line")]);
  assert.deepEqual([json?.message, json?.fields], ["user login", { kv: "a=1 b=two", user: "ann", status: 200, parsed: { a: "1", b: "two" } }]);
  assert.deepEqual([notJson?.message, notJson?.fields], ["plain text line", {}]);
  assert.deepEqual(
    chain.counts.map((counts) => [counts.step, counts.parseFailures]),
    [["0_parse", 1], ["1_parse", 0]],
  );
});

test("the agent's stream-level tail: trailing stream-constant sets go to the stream's fields, not to each event", () => {
  const text = (steps: string) => `sources:\n  - name: app\n    paths: [/var/log/app.log]\n    fields: { team: core, env: dev }\n    transforms: ${steps}\n`;
  const agentChain = (steps: string): TransformChain => {
    const result = loadConfigText(text(steps), "agent.yaml", agentConfigSchema, {});
    if (!result.ok) assert.fail(result.issues.map(formatIssue).join("\n"));
    const chain = compileTransforms(result.config.sources[0]?.transforms as TransformsConfig, { streamLevelTail: true });
    assert.ok(chain !== null);
    return chain;
  };
  const context = { host: "web-1", source: "app", path: "/var/log/app.log" };
  const statics = { team: "core", env: "dev" };
  // Read-only steps, then stream-constant sets: events keep their own fields; the stream carries static + set values (set wins).
  const tail = agentChain(`[{ drop: 'fields.env:prod' }, { set: { fields.env: prod, fields.origin: '{host}/{source}' } }, { set: { fields.n: 3, fields.brace: '{{x}}' } }]`);
  assert.equal(tail.writesFields, false);
  const [kept] = run(tail, [event("a", { status: 200 })]);
  assert.deepEqual(kept?.fields, { status: 200 });
  assert.deepEqual(tail.streamFields(context, statics), { team: "core", env: "prod", origin: "web-1/app", n: 3, brace: "{x}" });
  // A per-event set before the tail writes fields: the static fields stay per event; the stream has the tail's values only.
  const perEvent = agentChain(`[{ set: { fields.who: '{fields.user}' } }, { set: { fields.origin: '{path}' } }]`);
  assert.equal(perEvent.writesFields, true);
  assert.deepEqual(perEvent.streamFields(context, statics), { origin: "/var/log/app.log" });
  // A set reading an event's field, a dotted key, or the message is not stream-level, nor is anything before it.
  for (const steps of [`[{ set: { fields.origin: '{fields.user}' } }]`, `[{ set: { fields.a.b: x } }]`, `[{ set: { message: x } }]`, `[{ set: { fields.env: prod } }, { redact: { patterns: [email] } }]`]) {
    const chain = agentChain(steps);
    const [out] = run(chain, [event("m", { user: "u" })]);
    assert.notDeepEqual(out, event("m", { user: "u" }), steps);
  }
});

test("keepsAsciiMessages: only steps that leave the message alone or mask it with ASCII keep it", () => {
  assert.equal(chainOf(`[{ drop: 'debug' }, { redact: { patterns: [email, ipv4, { regex: 'k[0-9]+', name: key }] } }, { set: { fields.env: prod } }, { sample: { rate: 2 } }]`).keepsAsciiMessages, true);
  for (const step of [`{ set: { message: 'x' } }`, `{ rename: { fields.m: message } }`, `{ parse: { parser: { type: json } } }`]) {
    assert.equal(chainOf(`[${step}]`).keepsAsciiMessages, false, step);
  }
});
