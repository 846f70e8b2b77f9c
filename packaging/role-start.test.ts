import assert from "node:assert/strict";
import { test } from "node:test";
import { ROLE_OPTIONS_MARKER, roleEnvironment, roleLateFlags } from "./role-start.ts";

test("the agent restarts with its NODE_OPTIONS before the caller's, its environment where unset, and the marker; then sets the flags NODE_OPTIONS refuses", () => {
  const env = roleEnvironment(["agent", "--config", "a.yaml"], { PATH: "/bin", NODE_OPTIONS: "--max-semi-space-size=4", MALLOC_ARENA_MAX: "2" });
  assert.deepEqual(env, { PATH: "/bin", NODE_OPTIONS: "--max-semi-space-size=2 --max-semi-space-size=4", MALLOC_ARENA_MAX: "2", [ROLE_OPTIONS_MARKER]: "agent" });
  // No agent option is refused by NODE_OPTIONS today (--optimize-for-size was, and is not used: docs/ARCHITECTURE.md).
  assert.deepEqual(roleLateFlags(env ?? {}), []);
  assert.equal(roleEnvironment(["agent"], env ?? {}), null, "once: the restarted process runs");
});

test("the collector gets its options; other commands, and a role whose operator set the marker, run as started", () => {
  assert.deepEqual(roleEnvironment(["--verbose", "collector", "--config", "c.yaml"], {}), { NODE_OPTIONS: "--disable-warning=ExperimentalWarning", [ROLE_OPTIONS_MARKER]: "collector" });
  for (const args of [["version"], ["search", "agent"], [], ["--help"]]) assert.equal(roleEnvironment(args, {}), null, args.join(" "));
  assert.equal(roleEnvironment(["agent"], { [ROLE_OPTIONS_MARKER]: "off" }), null);
  assert.deepEqual(roleLateFlags({ [ROLE_OPTIONS_MARKER]: "off" }), []);
  assert.deepEqual(roleLateFlags({}), []);
});
