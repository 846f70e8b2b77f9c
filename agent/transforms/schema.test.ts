import { test } from "node:test";
import assert from "node:assert/strict";
import { agentConfigSchema } from "../config.ts";
import { formatIssue, loadConfigText } from "../../shared/config/load.ts";

const HEAD = "sources:\n  - name: app\n    paths: [/var/log/app.log]\n    transforms:\n";

/** The formatted issues of a config whose first source has these transform lines. */
function issuesOf(lines: string): string[] {
  const result = loadConfigText(HEAD + lines, "agent.yaml", agentConfigSchema, {});
  assert.equal(result.ok, false, "expected the config to be rejected");
  return result.ok ? [] : result.issues.map(formatIssue);
}

test("a bad query is a config error at the condition's line:column", () => {
  assert.deepEqual(issuesOf("      - drop: 'level:debug OR'\n"), [
    "agent.yaml:5:15: sources[0].transforms[0].drop: invalid query at column 13 of the condition: OR needs a clause after it",
  ]);
});

test("every bad value is reported, each at its own place", () => {
  const issues = issuesOf(
    [
      "      - keep: 'fields.a:(b'",
      "      - redact: { patterns: [email, phone, { regex: '([a-z' }, { regex: 'x*' }] }",
      "      - set: { fields.a: '{fields.b', host: x }",
      "      - rename: { fields.a: time }",
      "      - remove: [message]",
      "      - sample: { rate: 0, key: nope }",
      "      - { drop: a, keep: b }",
      "      - {}",
      "      - filter: a",
      "",
    ].join("\n"),
  );
  const where = issues.map((issue) => issue.split(": ").slice(0, 2).join(": "));
  assert.deepEqual(where, [
    "agent.yaml:5:15: sources[0].transforms[0].keep",
    "agent.yaml:6:37: sources[0].transforms[1].redact.patterns[1]",
    "agent.yaml:6:53: sources[0].transforms[1].redact.patterns[2].regex",
    "agent.yaml:6:73: sources[0].transforms[1].redact.patterns[3].regex",
    'agent.yaml:7:26: sources[0].transforms[2].set["fields.a"]',
    "agent.yaml:7:45: sources[0].transforms[2].set.host",
    'agent.yaml:8:29: sources[0].transforms[3].rename["fields.a"]',
    "agent.yaml:9:18: sources[0].transforms[4].remove[0]",
    "agent.yaml:10:25: sources[0].transforms[5].sample.rate",
    "agent.yaml:10:33: sources[0].transforms[5].sample.key",
    "agent.yaml:11:9: sources[0].transforms[6]",
    "agent.yaml:12:9: sources[0].transforms[7]",
    "agent.yaml:13:9: sources[0].transforms[8].filter",
    "agent.yaml:13:9: sources[0].transforms[8]",
  ]);
  assert.match(issues[0] as string, /invalid query at column/);
  assert.match(issues[3] as string, /matches the empty string/);
  assert.match(issues[4] as string, /unclosed "\{"/);
  assert.match(issues[10] as string, /exactly one of drop, keep, set, rename, remove, redact, sample, throttle, parse; found drop and keep/);
  assert.match(issues.at(-2) as string, /unknown key "filter"/);
});

test("a valid list loads as written", () => {
  const text = HEAD + "      - drop: 'level:debug'\n      - redact: { patterns: [ipv4] }\n      - throttle: { per_second: 10 }\n";
  const result = loadConfigText(text, "agent.yaml", agentConfigSchema, {});
  if (!result.ok) assert.fail(result.issues.map(formatIssue).join("\n"));
  assert.deepEqual(result.config.sources[0]?.transforms, [
    { drop: "level:debug" },
    { redact: { patterns: ["ipv4"], fields: ["message"] } },
    { throttle: { per_second: 10, max_keys: 10_000 } },
  ]);
});

test("a parse step needs a real parser and writes into a field, not the message", () => {
  assert.deepEqual(issuesOf("      - parse: { parser: { type: none } }\n      - parse: { parser: { type: json }, into: message }\n      - parse: { parser: { type: regex } }\n"), [
    "agent.yaml:5:34: sources[0].transforms[0].parse.parser.type: a parse step needs a parser other than none",
    'agent.yaml:6:48: sources[0].transforms[1].parse.into: into names a field ("fields.<name>"), not message',
    'agent.yaml:7:26: sources[0].transforms[2].parse.parser.pattern: parser type "regex" needs a pattern with named groups',
  ]);
});
