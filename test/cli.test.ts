/**
 * The `logship` binary as a real subprocess: output streams and exit codes
 * (0 ok, 1 runtime failure, 2 usage or config error).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../bin/logship.ts", import.meta.url));
const FIXTURES = fileURLToPath(new URL("./fixtures/config/", import.meta.url));
const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

function logship(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  // A clean environment: the fixtures' ${VAR:-default} references must not pick up the caller's variables.
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { PATH: process.env.PATH ?? "" }, timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("version prints the package version, the checkout's commit and the Node version, and exits 0", () => {
  const result = logship("version");
  assert.equal(result.status, 0, result.stderr);
  const head = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" });
  const commit = head.status === 0 ? head.stdout.trim() : "unknown";
  assert.equal(result.stdout, `logship ${PACKAGE_VERSION} (commit ${commit}, node ${process.version})\n`);
});

test("validate accepts good configs of both kinds and exits 0", () => {
  const agent = logship("validate", "--config", `${FIXTURES}agent-ok.yaml`);
  assert.equal(agent.status, 0, agent.stderr);
  assert.equal(agent.stdout, `${FIXTURES}agent-ok.yaml: ok (agent config)\n`);
  const collector = logship("validate", "--config", `${FIXTURES}collector-ok.yaml`);
  assert.equal(collector.status, 0, collector.stderr);
  assert.match(collector.stdout, /: ok \(collector config\)\n$/);
});

test("validate detects an up config: the bundled demo that npm start runs is valid", () => {
  const demo = fileURLToPath(new URL("../examples/up-demo.yaml", import.meta.url));
  const result = logship("validate", "--config", demo);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, `${demo}: ok (up config)\n`);
});

test("validate prints every error of a bad config on stderr and exits 2", () => {
  const file = `${FIXTURES}agent-bad.yaml`;
  const result = logship("validate", "--config", file);
  assert.equal(result.status, 2);
  assert.equal(result.stdout, "");
  assert.deepEqual(result.stderr.trimEnd().split("\n").map((line) => line.split(": ").slice(0, 2).join(" ")), [
    `${file}:4:5 sources[0].paths`,
    `${file}:5:5 sources[0].pahts`,
    `${file}:6:37 sources[0].parser.pattern`,
    `${file}:7:11 sources[1].name`,
    `${file}:9:21 sources[1].max_line_bytes`,
    `${file}:11:15 batch.max_events`,
  ]);
  assert.match(result.stderr, /unknown key "pahts"; did you mean "paths"\?/);
});

test("validate --kind overrides detection; a missing file is a config error", () => {
  const wrongKind = logship("validate", "--config", `${FIXTURES}agent-ok.yaml`, "--kind", "collector");
  assert.equal(wrongKind.status, 2);
  assert.match(wrongKind.stderr, /sources: unknown key "sources"/);
  const missing = logship("validate", "--config", `${FIXTURES}nope.yaml`);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^logship: cannot read config file .*nope\.yaml/);
});

test("schema agent prints a JSON Schema with sources", () => {
  const result = logship("schema", "agent");
  assert.equal(result.status, 0, result.stderr);
  const schema = JSON.parse(result.stdout) as { properties: Record<string, unknown> };
  assert.ok("sources" in schema.properties);
});

test("usage errors exit 2: unknown command, unknown option, missing argument", () => {
  for (const args of [["frobnicate"], ["version", "--bogus"], ["schema"], ["schema", "nope"], ["validate"]]) {
    const result = logship(...args);
    assert.equal(result.status, 2, `logship ${args.join(" ")}`);
    assert.match(result.stderr, /error: /, `logship ${args.join(" ")}`);
  }
});

test("--help works on the program and every command", () => {
  for (const args of [["--help"], ["up", "--help"], ["validate", "--help"], ["schema", "--help"], ["version", "--help"], ["help", "validate"]]) {
    const result = logship(...args);
    assert.equal(result.status, 0, `logship ${args.join(" ")}`);
    assert.match(result.stdout, /^Usage: logship/, `logship ${args.join(" ")}`);
  }
});
