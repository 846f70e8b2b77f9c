/**
 * `logship up`'s planning and tokens without starting anything: the
 * single-machine defaults (loopback listen, data under ./logship-data),
 * flags over the file, paths resolved where an operator expects, and the
 * token rules (one kept in data_dir unless LOGSHIP_TOKEN or configured
 * tokens say otherwise; the agent's own ingest token).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatIssue, loadConfigText } from "../shared/config/load.ts";
import { ConfigError } from "../shared/errors.ts";
import { defaultUpConfig, localAgentConfig, planUp, upConfigSchema, type UpConfig } from "./config.ts";
import { localTokens } from "./tokens.ts";

function load(text: string): UpConfig {
  const result = loadConfigText(text, "/etc/up/up.yaml", upConfigSchema, {});
  if (!result.ok) throw new Error(result.issues.map(formatIssue).join("\n"));
  return result.config;
}

test("no config: a collector on 127.0.0.1:7170, everything under ./logship-data, --path as a source read from the beginning", () => {
  const plan = planUp(defaultUpConfig(), { configFile: undefined, paths: ["logs/*.log", "/var/log/syslog"], dataDir: undefined, listen: undefined, cwd: "/home/me" });
  assert.equal(plan.collector.listen, "127.0.0.1:7170");
  assert.equal(plan.dataDir, "/home/me/logship-data");
  assert.equal(plan.collector.data_dir, "/home/me/logship-data/collector");
  assert.equal(plan.agent.data_dir, "/home/me/logship-data/agent");
  assert.deepEqual(plan.collector.tokens, []);
  assert.equal(plan.collector.sinks.search.type, "embedded");
  assert.deepEqual(
    plan.agent.sources.map((source) => [source.name, source.paths, source.start_at]),
    [["files", ["/home/me/logs/*.log", "/var/log/syslog"], "beginning"]],
  );
  assert.equal(plan.agentApiListen, undefined);
  assert.deepEqual(localAgentConfig(plan, "http://127.0.0.1:7170", "t0k3n").collectors, ["http://127.0.0.1:7170"]);
});

test("a config file: its sections keep the standalone defaults, relative paths resolve against the file, flags win", () => {
  const config = load(
    [
      "data_dir: state",
      "collector:",
      "  listen: 0.0.0.0:9000",
      "  log: { segment_bytes: 8MiB }",
      "agent:",
      "  api: {}",
      "  sources:",
      "    - { name: app, paths: [app/*.log] }",
      "",
    ].join("\n"),
  );
  const fromFile = planUp(config, { configFile: "/etc/up/up.yaml", paths: [], dataDir: undefined, listen: undefined, cwd: "/home/me" });
  assert.equal(fromFile.collector.listen, "0.0.0.0:9000");
  assert.equal(fromFile.collector.log.segment_bytes, 8 * 1024 ** 2);
  assert.equal(fromFile.collector.log.retention.max_age, 7 * 86_400_000, "the collector's own defaults");
  assert.equal(fromFile.dataDir, "/etc/up/state");
  assert.deepEqual(fromFile.agent.sources.map((source) => [source.name, source.paths, source.start_at]), [["app", ["/etc/up/app/*.log"], "end"]]);
  assert.equal(fromFile.agentApiListen, "127.0.0.1:7171");

  const flagged = planUp(config, { configFile: "/etc/up/up.yaml", paths: ["x.log"], dataDir: "d", listen: "127.0.0.1:0", cwd: "/home/me" });
  assert.equal(flagged.collector.listen, "127.0.0.1:0");
  assert.equal(flagged.dataDir, "/home/me/d");
  assert.equal(flagged.collector.data_dir, "/home/me/d/collector");
  assert.deepEqual(flagged.agent.sources.map((source) => source.name), ["app", "files"]);
  assert.deepEqual(flagged.agent.sources[1]?.paths, ["/home/me/x.log"]);
});

test("planning refuses, as config errors: nothing to tail, a compressed --path, a bad --listen, a source already named files, a parser that does not compile", () => {
  const flags = { configFile: undefined, paths: [], dataDir: undefined, listen: undefined, cwd: "/home/me" };
  assert.throws(() => planUp(defaultUpConfig(), flags), (error: unknown) => error instanceof ConfigError && /^nothing to tail/.test(error.message));
  assert.throws(() => planUp(defaultUpConfig(), { ...flags, paths: ["a.log", "old/*.gz"] }), (error: unknown) => error instanceof ConfigError && /^--path "old\/\*\.gz": compressed files are not tailed/.test(error.message));
  assert.throws(() => planUp(defaultUpConfig(), { ...flags, paths: ["a.log"], listen: "7170" }), (error: unknown) => error instanceof ConfigError && /^--listen: expected host:port/.test(error.message));
  const named = load("agent:\n  sources:\n    - { name: files, paths: [a.log] }\n");
  assert.throws(() => planUp(named, { ...flags, paths: ["b.log"] }), (error: unknown) => error instanceof ConfigError && /named "files"/.test(error.message));
  const badTime = load("agent:\n  sources:\n    - { name: app, paths: [a.log], parser: { type: json, time_field: t, time_format: '%Q' } }\n");
  assert.throws(() => planUp(badTime, flags), (error: unknown) => error instanceof ConfigError && /sources\[0\]\.parser/.test(error.message));
});

test("tokens: one admin token kept in data_dir (0600) and the same on the next start; LOGSHIP_TOKEN instead when set; the agent gets its own ingest token", async (t) => {
  const dataDir = join(mkdtempSync(join(tmpdir(), "logship-up-tokens-")), "data");
  t.after(() => rmSync(join(dataDir, ".."), { recursive: true, force: true }));
  const first = await localTokens({ configured: [], agentToken: undefined, dataDir, env: {} });
  assert.equal(readFileSync(join(dataDir, "token"), "utf8"), `${first.searchToken}\n`);
  assert.equal(statSync(join(dataDir, "token")).mode & 0o777, 0o600);
  assert.deepEqual(first.tokens, [
    { token: first.searchToken, tenant: "default", role: "admin" },
    { token: first.agentToken, tenant: "default", role: "ingest" },
  ]);
  assert.notEqual(first.agentToken, first.searchToken);
  const second = await localTokens({ configured: [], agentToken: undefined, dataDir, env: {} });
  assert.equal(second.searchToken, first.searchToken);
  assert.notEqual(second.agentToken, first.agentToken, "the agent's token lives only in its process");

  const fromEnv = await localTokens({ configured: [], agentToken: undefined, dataDir, env: { LOGSHIP_TOKEN: "from-env" } });
  assert.deepEqual([fromEnv.searchToken, fromEnv.searchTokenOrigin, fromEnv.tokens[0]?.token], ["from-env", "LOGSHIP_TOKEN", "from-env"]);
});

test("tokens: configured ones are the table; the first search (else admin) token is printed; agent.token must be one of them", async () => {
  const configured = [
    { token: "ingest-1", tenant: "acme", role: "ingest" as const },
    { token: "admin-1", tenant: "default", role: "admin" as const },
    { token: "search-1", tenant: "default", role: "search" as const },
  ];
  const tokens = await localTokens({ configured, agentToken: "ingest-1", dataDir: "/nonexistent", env: { LOGSHIP_TOKEN: "ignored" } });
  assert.deepEqual([tokens.tokens, tokens.agentToken, tokens.searchToken], [configured, "ingest-1", "search-1"]);
  const adminOnly = await localTokens({ configured: [configured[1] as (typeof configured)[number]], agentToken: undefined, dataDir: "/nonexistent", env: {} });
  assert.equal(adminOnly.searchToken, "admin-1");
  assert.equal(adminOnly.tokens.length, 2);
  await assert.rejects(localTokens({ configured, agentToken: "unknown", dataDir: "/nonexistent", env: {} }), (error: unknown) => error instanceof ConfigError && /agent\.token is not one of collector\.tokens/.test(error.message));
});
