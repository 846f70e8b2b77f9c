import { test } from "node:test";
import assert from "node:assert/strict";
import { Command } from "commander";
import { ConfigError, QueryError } from "../errors.ts";
import { buildProgram, runCli } from "./program.ts";
import type { CliContext } from "./context.ts";

function captureContext(): CliContext & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, writeOut: (text) => out.push(text), writeErr: (text) => err.push(text), env: {}, exitCode: 0 };
}

/** The real program plus a command that throws `error`. */
function programThatThrows(context: CliContext, error: unknown): Command {
  const program = buildProgram(context);
  program.addCommand(
    new Command("explode").action(() => {
      throw error;
    }).copyInheritedSettings(program),
  );
  return program;
}

test("an unexpected error prints one line and exits 1; --verbose adds the stack", async () => {
  const context = captureContext();
  assert.equal(await runCli(["explode"], context, programThatThrows(context, new Error("disk on fire"))), 1);
  assert.deepEqual(context.err, ["logship: disk on fire\n"]);

  const verbose = captureContext();
  assert.equal(await runCli(["--verbose", "explode"], verbose, programThatThrows(verbose, new Error("disk on fire"))), 1);
  assert.equal(verbose.err[0], "logship: disk on fire\n");
  assert.match(verbose.err[1] ?? "", /at .*program\.test\.ts/);
});

test("a ConfigError exits 2", async () => {
  const context = captureContext();
  assert.equal(await runCli(["explode"], context, programThatThrows(context, new ConfigError("bad config"))), 2);
  assert.deepEqual(context.err, ["logship: bad config\n"]);
});

test("a QueryError exits 2 and says where: the message, then the query with a caret under the column", async () => {
  const context = captureContext();
  assert.equal(await runCli(["explode"], context, programThatThrows(context, new QueryError("a AND", 3, "AND needs a clause after it"))), 2);
  assert.deepEqual(context.err, ["logship: invalid query at column 3: AND needs a clause after it\n  a AND\n    ^\n"]);
});

test("commands write through the context", async () => {
  const context = captureContext();
  assert.equal(await runCli(["version"], context), 0);
  assert.match(context.out.join(""), /^logship \d+\.\d+\.\d+/);
});
