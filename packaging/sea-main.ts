/**
 * The main script of the single executable (packaging/build-sea.ts bundles
 * it into one CommonJS file: a single executable's main script cannot be an
 * ES module, so no top-level await, unlike bin/logship.ts). A role started
 * without its Node options and environment replaces itself once with them,
 * and sets its remaining V8 flags (role-start.ts); then the CLI runs as
 * from the sources.
 */
import { setFlagsFromString } from "node:v8";
import { exitWhenDone } from "../shared/cli/exit.ts";
import { runCli } from "../shared/cli/program.ts";
import { roleLateFlags } from "./role-options.ts";
import { roleEnvironment } from "./role-start.ts";

const args = process.argv.slice(2);
const env = roleEnvironment(args, process.env);
if (env !== null && process.execve !== undefined) process.execve(process.execPath, [process.execPath, ...args], env);
for (const flag of roleLateFlags(process.env)) setFlagsFromString(flag);

void runCli(args).then(exitWhenDone);
