#!/usr/bin/env node
import { exitWhenDone } from "../shared/cli/exit.ts";
import { runCli } from "../shared/cli/program.ts";

exitWhenDone(await runCli(process.argv.slice(2)));
