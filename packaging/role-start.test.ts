import assert from "node:assert/strict";
import { test } from "node:test";
import { ROLE_OPTIONS_MARKER, roleFlagsUnderLoad, roleLateFlags, roleNodeOptions } from "./role-options.ts";
import { roleEnvironment } from "./role-start.ts";

test("the agent restarts with its NODE_OPTIONS before the caller's, its environment where unset, and the marker; then sets the flags NODE_OPTIONS refuses", () => {
  const env = roleEnvironment(["agent", "--config", "a.yaml"], { PATH: "/bin", NODE_OPTIONS: "--max-semi-space-size=4", MALLOC_ARENA_MAX: "2" });
  assert.deepEqual(env, {
    PATH: "/bin",
    NODE_OPTIONS: "--max-semi-space-size=2 --max-semi-space-size=4",
    MALLOC_ARENA_MAX: "2",
    MALLOC_MMAP_THRESHOLD_: "65536",
    MALLOC_TRIM_THRESHOLD_: "0",
    MALLOC_TOP_PAD_: "0",
    [ROLE_OPTIONS_MARKER]: "agent",
  });
  // The compilers' flags are refused by NODE_OPTIONS: set by the restarted process, and set back on by the agent under load.
  assert.deepEqual(roleLateFlags(env ?? {}), ["--turbo-filter=-*", "--maglev-filter=-*"]);
  assert.deepEqual(roleFlagsUnderLoad("agent", [], env ?? {}), ["--turbo-filter=*", "--maglev-filter=*"]);
  assert.equal(roleEnvironment(["agent"], env ?? {}), null, "once: the restarted process runs");
});

test("the collector gets its options; other commands, and a role whose operator set the marker, run as started", () => {
  assert.deepEqual(roleEnvironment(["--verbose", "collector", "--config", "c.yaml"], {}), { NODE_OPTIONS: "--disable-warning=ExperimentalWarning", [ROLE_OPTIONS_MARKER]: "collector" });
  for (const args of [["version"], ["search", "agent"], [], ["--help"]]) assert.equal(roleEnvironment(args, {}), null, args.join(" "));
  assert.equal(roleEnvironment(["agent"], { [ROLE_OPTIONS_MARKER]: "off" }), null);
  assert.deepEqual(roleLateFlags({ [ROLE_OPTIONS_MARKER]: "off" }), []);
  assert.deepEqual(roleLateFlags({}), []);
});

test("an agent whose config decodes lines (parser, multiline or transforms) gets the decoding options in place of the same flags", () => {
  const configs: Record<string, string> = {
    "plain.yaml": "sources:\n  - { name: a, paths: [/var/log/a.log] }\n  - { name: b, paths: [/var/log/b.log], parser: { type: none } }\n",
    "json.yaml": "sources:\n  - { name: a, paths: [/var/log/a.log] }\n  - { name: b, paths: [/var/log/b.log], parser: { type: json } }\n",
    "multiline.yaml": "sources:\n  - { name: a, paths: [/a], multiline: { start: '^\\d' } }\n",
    "transforms.yaml": "sources:\n  - { name: a, paths: [/a], transforms: [{ drop: debug }] }\n",
    "no-transforms.yaml": "sources:\n  - { name: a, paths: [/a], transforms: [] }\n",
    "broken.yaml": "sources: [\n",
  };
  const read = (path: string): string => {
    const text = configs[path];
    if (text === undefined) throw new Error(`ENOENT: ${path}`);
    return text;
  };
  const nodeOptions = (args: string[]): string | undefined => roleEnvironment(args, {}, read)?.["NODE_OPTIONS"];
  for (const path of ["json.yaml", "multiline.yaml", "transforms.yaml"]) {
    assert.equal(nodeOptions(["agent", "--config", path]), "--max-semi-space-size=8", path);
  }
  assert.equal(nodeOptions(["agent", "--config=transforms.yaml"]), "--max-semi-space-size=8");
  assert.equal(nodeOptions(["agent", "-c", "json.yaml", "--dry-run"]), "--max-semi-space-size=8");
  for (const path of ["plain.yaml", "no-transforms.yaml", "broken.yaml", "missing.yaml"]) {
    assert.equal(nodeOptions(["agent", "--config", path]), "--max-semi-space-size=2", path);
  }
  assert.equal(nodeOptions(["collector", "--config", "json.yaml"]), "--disable-warning=ExperimentalWarning", "only the agent has decoding options");
  assert.deepEqual(roleNodeOptions("agent", true), ["--turbo-filter=-*", "--maglev-filter=-*", "--max-semi-space-size=8"]);
  assert.deepEqual(roleNodeOptions("agent", false), ["--max-semi-space-size=2", "--turbo-filter=-*", "--maglev-filter=-*"]);
});

test("the agent sets its flags under load only when it started with every one of the role's flags they replace", () => {
  assert.deepEqual(roleFlagsUnderLoad("agent", ["--max-semi-space-size=2", "--turbo-filter=-*", "--maglev-filter=-*"], {}), ["--turbo-filter=*", "--maglev-filter=*"], "on the command line (the bundle as the benchmarks start it)");
  assert.deepEqual(roleFlagsUnderLoad("agent", ["--maglev-filter=-*"], {}), [], "only one of them: the process was not started as the role");
  assert.deepEqual(roleFlagsUnderLoad("agent", [], {}), [], "started on Node's defaults: nothing deferred");
  assert.deepEqual(roleFlagsUnderLoad("agent", [], { [ROLE_OPTIONS_MARKER]: "off" }), []);
  assert.deepEqual(roleFlagsUnderLoad("collector", ["--turbo-filter=-*"], {}), [], "only the agent defers its compilers");
});
