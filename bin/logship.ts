#!/usr/bin/env -S node --max-semi-space-size=2
// Node options: keep them as in packaging/node-options.json (the single executable embeds those).
import { runCli } from "../shared/cli/program.ts";

process.exitCode = await runCli(process.argv.slice(2));
