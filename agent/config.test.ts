import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../shared/errors.ts";
import { formatIssue, loadConfigText } from "../shared/config/load.ts";
import { agentConfigSchema, loadAgentConfig } from "./config.ts";
import type { AgentConfig } from "./config.ts";

const FIXTURES = fileURLToPath(new URL("../test/fixtures/config/", import.meta.url));

/** Validates `text` as agent.yaml and returns the formatted issues (asserting there are some). */
function issuesOf(text: string, env: Record<string, string> = {}): string[] {
  const result = loadConfigText(text, "agent.yaml", agentConfigSchema, env);
  assert.equal(result.ok, false, "expected the config to be rejected");
  return result.ok ? [] : result.issues.map(formatIssue);
}

function configOf(text: string, env: Record<string, string> = {}): AgentConfig {
  const result = loadConfigText(text, "agent.yaml", agentConfigSchema, env);
  if (!result.ok) assert.fail(result.issues.map(formatIssue).join("\n"));
  return result.config;
}

const MINIMAL = "sources:\n  - name: app\n    paths: [/var/log/app.log]\n";

test("a minimal config gets every default, sizes in bytes and durations in ms", () => {
  const config = configOf(MINIMAL);
  assert.equal(config.data_dir, "/var/lib/logship/agent");
  assert.equal(config.host, undefined);
  assert.deepEqual(config.collectors, []);
  assert.deepEqual(config.sources[0], {
    name: "app",
    paths: ["/var/log/app.log"],
    exclude: [],
    start_at: "end",
    fields: {},
    parser: { type: "none" },
    max_line_bytes: 1024 * 1024,
  });
  assert.deepEqual(config.tail, {
    max_open_files: 1024,
    close_inactive: 300_000,
    rescan_interval: 10_000,
    read_bytes_per_pass: 256 * 1024,
    rotate_wait: 5000,
    checkpoint_interval: 1000,
    fingerprint_bytes: 1024,
    max_backoff: 10_000,
  });
  assert.deepEqual(config.batch, { max_bytes: 1024 * 1024, max_events: 20_000, linger: 250 });
  assert.deepEqual(config.compression, { level: 1, strategy: "greedy" });
  assert.deepEqual(config.spool, { max_bytes: 1024 ** 3, max_batches: 50_000, when_full: "block" });
  assert.deepEqual(config.api, { listen: "127.0.0.1:7171" });
});

test("multiline gets its defaults", () => {
  const config = configOf(`${MINIMAL}    multiline: { start: '^\\d{4}-' }\n`);
  assert.deepEqual(config.sources[0]?.multiline, {
    start: "^\\d{4}-",
    negate: false,
    max_lines: 500,
    max_bytes: 1024 * 1024,
    timeout: 2000,
  });
});

test("the DESIGN.md example loads from a file", () => {
  const config = loadAgentConfig(`${FIXTURES}agent-ok.yaml`, {});
  assert.equal(config.token, "");
  assert.equal(config.sources[0]?.multiline?.timeout, 2000);
  assert.deepEqual(config.sources[1]?.parser, { type: "regex", pattern: "^(?<level>[A-Z]+) (?<message>.*)$" });
});

test("env references expand before validation, in flow maps too, and plain scalars get their YAML type", () => {
  const text = `token: \${TOKEN}\ncompression: { level: \${LEVEL:-7} }\n${MINIMAL}    fields: { env: "\${ENV:-prod}", literal: $\${HOME} }\n`;
  const config = configOf(text, { TOKEN: "abc" });
  assert.equal(config.token, "abc");
  assert.equal(config.compression.level, 7);
  assert.deepEqual(config.sources[0]?.fields, { env: "prod", literal: "${HOME}" });
});

test("bad YAML syntax is reported with its line:column", () => {
  const issues = issuesOf("sources:\n  - name: app\n    paths: [a, b\n");
  assert.ok(issues.length >= 1);
  assert.match(issues[0] ?? "", /^agent\.yaml:\d+:\d+: YAML syntax: /);
});

test("a duplicate YAML key is a syntax error at the second key", () => {
  assert.match(issuesOf(`data_dir: /a\ndata_dir: /b\n${MINIMAL}`)[0] ?? "", /^agent\.yaml:2:1: YAML syntax: .*unique/i);
});

test("an unknown key names the nearest valid key", () => {
  const issues = issuesOf("sources:\n  - name: app\n    pahts: [/var/log/app.log]\n");
  assert.ok(issues.includes('agent.yaml:3:5: sources[0].pahts: unknown key "pahts"; did you mean "paths"?'), issues.join("\n"));
  assert.ok(issues.includes("agent.yaml:2:5: sources[0].paths: required key is missing (expected array)"), issues.join("\n"));
});

test("an unknown key with no near match gets no suggestion", () => {
  assert.deepEqual(issuesOf(`${MINIMAL}colour: blue\n`), ['agent.yaml:4:1: colour: unknown key "colour"']);
});

test("a wrong type is reported at the value", () => {
  assert.deepEqual(issuesOf(`${MINIMAL}batch:\n  max_events: lots\n`), [
    "agent.yaml:5:15: batch.max_events: Invalid input: expected number, received string",
  ]);
});

test("an unknown parser type lists the valid ones", () => {
  const issues = issuesOf(`${MINIMAL}    parser: { type: csv }\n`);
  assert.equal(issues.length, 1);
  assert.match(issues[0] ?? "", /^agent\.yaml:4:21: sources\[0\]\.parser\.type: .*"none"\|"json"\|"logfmt"\|"regex"\|"nginx"\|"apache"\|"syslog"/);
});

test("a bad unit says what a size looks like", () => {
  assert.deepEqual(issuesOf(`${MINIMAL}    max_line_bytes: 12 parsecs\n`), [
    'agent.yaml:4:21: sources[0].max_line_bytes: expected a size like 64KiB, 1MiB, 10GiB; unknown unit "parsecs" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB); got "12 parsecs"',
  ]);
});

test("tail.max_backoff: at least the 250 ms poll interval, at most a minute", () => {
  assert.equal(configOf(`${MINIMAL}tail: { max_backoff: 2s }\n`).tail.max_backoff, 2000);
  assert.match(issuesOf(`${MINIMAL}tail: { max_backoff: 100ms }\n`)[0] ?? "", /tail\.max_backoff: .*250ms/);
  assert.match(issuesOf(`${MINIMAL}tail: { max_backoff: 5m }\n`)[0] ?? "", /tail\.max_backoff: .*1m/);
});

test("an unset env var is named with its position", () => {
  assert.deepEqual(issuesOf(`token: \${LOGSHIP_TOKEN}\n${MINIMAL}`), [
    'agent.yaml:1:8: token: environment variable LOGSHIP_TOKEN is not set (write "${LOGSHIP_TOKEN:-default}" to give a default)',
  ]);
});

test("a regex that does not compile is reported at parser.pattern", () => {
  const issues = issuesOf(`${MINIMAL}    parser:\n      type: regex\n      pattern: '(?<status>\\d+'\n`);
  assert.equal(issues.length, 1);
  assert.match(issues[0] ?? "", /^agent\.yaml:6:16: sources\[0\]\.parser\.pattern: not a valid regular expression: .*Unterminated group/);
});

test("parser pattern rules: needed for regex, named groups required, not allowed elsewhere", () => {
  assert.deepEqual(issuesOf(`${MINIMAL}    parser: { type: regex }\n`), [
    'agent.yaml:4:13: sources[0].parser.pattern: parser type "regex" needs a pattern with named groups',
  ]);
  assert.match(issuesOf(`${MINIMAL}    parser: { type: regex, pattern: '(\\d+)' }\n`)[0] ?? "", /parser\.pattern: needs at least one named group/);
  assert.match(issuesOf(`${MINIMAL}    parser: { type: json, pattern: '(?<a>x)' }\n`)[0] ?? "", /parser\.pattern: pattern is only allowed with parser type "regex", not "json"/);
  assert.match(issuesOf(`${MINIMAL}    parser: { type: nginx, message_key: msg }\n`)[0] ?? "", /parser\.message_key: message_key is only allowed with parser type "json"/);
});

test("multiline needs exactly one of start and continue, each a valid regex", () => {
  assert.match(issuesOf(`${MINIMAL}    multiline: { timeout: 1s }\n`)[0] ?? "", /^agent\.yaml:4:16: sources\[0\]\.multiline: set exactly one of start or continue$/);
  assert.match(issuesOf(`${MINIMAL}    multiline: { start: a, continue: b }\n`)[0] ?? "", /sources\[0\]\.multiline\.continue: set exactly one of start or continue, not both/);
  assert.match(issuesOf(`${MINIMAL}    multiline: { start: '[' }\n`)[0] ?? "", /sources\[0\]\.multiline\.start: not a valid regular expression/);
});

test("a duplicate source name is reported at the second name", () => {
  const text = `${MINIMAL}  - name: app\n    paths: [/var/log/other.log]\n`;
  assert.deepEqual(issuesOf(text), ['agent.yaml:4:11: sources[1].name: duplicate source name "app" (first used by sources[0])']);
});

test("several errors are reported at once, in file order", () => {
  const text = [
    "collectors: [ftp://x]",
    "sources:",
    "  - name: 'bad name'",
    "    pahts: [a]",
    "  - name: ok",
    "    paths: []",
    "tail: { fingerprint_bytes: 1MiB }",
    "compression: { level: 30 }",
    "spool: { when_full: panic }",
    "",
  ].join("\n");
  const issues = issuesOf(text);
  const pathsAndLines = issues.map((issue) => issue.split(": ").slice(0, 2).join(" "));
  assert.deepEqual(pathsAndLines, [
    "agent.yaml:1:14 collectors[0]",
    "agent.yaml:3:5 sources[0].paths",
    "agent.yaml:3:11 sources[0].name",
    "agent.yaml:4:5 sources[0].pahts",
    "agent.yaml:6:12 sources[1].paths",
    "agent.yaml:7:28 tail.fingerprint_bytes",
    "agent.yaml:8:23 compression.level",
    "agent.yaml:9:21 spool.when_full",
  ]);
});

test("sources must not be empty, and a config must not be empty", () => {
  assert.match(issuesOf("sources: []\n")[0] ?? "", /^agent\.yaml:1:10: sources: at least one source is needed/);
  assert.deepEqual(issuesOf("# nothing\n"), ["agent.yaml:1:1: the config is empty; expected a mapping of keys"]);
});

test("loadAgentConfig throws a ConfigError listing every issue, one per line", () => {
  assert.throws(() => loadAgentConfig(`${FIXTURES}agent-bad.yaml`, {}), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    const lines = error.message.split("\n");
    assert.equal(lines.length, 6);
    for (const line of lines) assert.match(line, /agent-bad\.yaml:\d+:\d+: [a-z_[\].0-9]+: /);
    return true;
  });
  assert.throws(() => loadAgentConfig(`${FIXTURES}does-not-exist.yaml`, {}), /cannot read config file .*does-not-exist\.yaml/);
});

test("a path glob that names compressed files is a config error at its line and column", () => {
  const result = loadConfigText("sources:\n  - name: old\n    paths: [/var/log/app.log, /var/log/app.log.*.gz]\n", "agent.yaml", agentConfigSchema, {});
  assert.equal(result.ok, false);
  if (result.ok) return;
  const text = result.issues.map(formatIssue).join("\n");
  assert.match(text, /^agent\.yaml:3:\d+: sources\[0\]\.paths\[1\]: compressed files are not tailed/m);
});
