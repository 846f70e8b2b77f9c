import { test } from "node:test";
import assert from "node:assert/strict";
import { agentConfigSchema, type AgentConfig } from "./config.ts";
import { diffSources, keysNeedingRestart } from "./reload.ts";

function config(input: Record<string, unknown>): AgentConfig {
  return agentConfigSchema.parse({ collectors: ["http://127.0.0.1:7170"], ...input });
}

const rule = (name: string, more: Record<string, unknown> = {}) => ({ name, paths: [`/var/log/${name}/*.log`], ...more });

test("diffSources: added, removed, changed and unchanged rules by name", () => {
  const before = config({ sources: [rule("a"), rule("b"), rule("c", { fields: { team: "x" } })] }).sources;
  const after = config({ sources: [rule("c", { fields: { team: "y" } }), rule("a"), rule("d")] }).sources;
  assert.deepEqual(diffSources(before, after), { added: ["d"], removed: ["b"], changed: ["c"], unchanged: ["a"] });
});

test("diffSources: a parser or multiline change is a change", () => {
  const before = config({ sources: [rule("a"), rule("b")] }).sources;
  const after = config({ sources: [rule("a", { parser: { type: "json" } }), rule("b", { multiline: { start: "^\\S" } })] }).sources;
  assert.deepEqual(diffSources(before, after).changed, ["a", "b"]);
});

test("keysNeedingRestart: dotted keys of every changed setting outside sources", () => {
  const before = config({ sources: [rule("a")], batch: { linger: "250ms" } });
  const after = config({ sources: [rule("b")], batch: { linger: "1s" }, collectors: ["http://10.0.0.5:7170"], data_dir: "/srv/agent", tls: { ca: "/etc/ca.pem" } });
  assert.deepEqual(keysNeedingRestart(before, after), ["batch.linger", "collectors", "data_dir", "tls"]);
  assert.deepEqual(keysNeedingRestart(before, config({ sources: [rule("z")], batch: { linger: "250ms" } })), []);
});
