import { test } from "node:test";
import assert from "node:assert/strict";
import { expandEnv, maskEnvReferences, unmaskEnvReferences } from "./env.ts";

const env = { HOST: "web-1", EMPTY: "", TOKEN: "s3cr}t" };

test("expandEnv replaces references and keeps other text", () => {
  const cases: Array<[string, string]> = [
    ["plain", "plain"],
    ["${HOST}", "web-1"],
    ["http://${HOST}:7170/x", "http://web-1:7170/x"],
    ["${HOST}${HOST}", "web-1web-1"],
    ["${TOKEN}", "s3cr}t"],
    ["${MISSING:-fallback}", "fallback"],
    ["${EMPTY:-fallback}", "fallback"],
    ["${HOST:-fallback}", "web-1"],
    ["${MISSING:-}", ""],
    ["${EMPTY}", ""],
    ["${MISSING:-a b:c}", "a b:c"],
    ["$${HOST}", "${HOST}"],
    ["$$${HOST}", "$${HOST}"], // left to right: "$", then the escape "$${"
    ["cost: $5 and $HOST", "cost: $5 and $HOST"],
    ["trailing $", "trailing $"],
  ];
  for (const [text, expanded] of cases) assert.deepEqual(expandEnv(text, env), { ok: true, value: expanded }, text);
});

test("expandEnv names every unset variable and bad reference", () => {
  const result = expandEnv("${NOPE} and ${ALSO_NOPE} and ${HOST}", env);
  assert.equal(result.ok, false);
  assert.ok(!result.ok);
  assert.equal(result.errors.length, 2);
  assert.match(result.errors[0] ?? "", /environment variable NOPE is not set/);
  assert.match(result.errors[1] ?? "", /environment variable ALSO_NOPE is not set/);
  for (const text of ["${1BAD}", "${}", "${HOST", "${A:-${B}}"]) {
    assert.equal(expandEnv(text, env).ok, false, text);
  }
});

test("masking keeps length and restores the reference text", () => {
  const text = "a: { token: ${TOKEN}, other: $${LITERAL}, x: ${A:-1} }\nb: ${\nc: $d";
  const { masked, references } = maskEnvReferences(text);
  assert.equal(masked.length, text.length);
  assert.ok(!masked.includes("${TOKEN}"));
  assert.equal(unmaskEnvReferences(masked, references), text);
});
