#!/usr/bin/env node
import { runCli } from "../shared/cli/program.ts";

process.exitCode = await runCli(process.argv.slice(2));
