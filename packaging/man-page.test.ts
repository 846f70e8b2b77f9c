import assert from "node:assert/strict";
import { test } from "node:test";
import { listedCommands, troffLiteral } from "./man-page.ts";

test("the commands a help text lists, without help", () => {
  const help = "Usage: logship log [options] [command]\n\nOptions:\n  -h, --help      display help\n\nCommands:\n  dump [options]  print the events\n                  stored in the log\n  help [command]  display help for command\n";
  assert.deepEqual(listedCommands(help), ["dump"]);
  assert.deepEqual(listedCommands("Usage: logship version\n\nOptions:\n  -h, --help  display help\n"), []);
});

test("help text in troff: backslashes, hyphens, leading dots and quotes, and characters past ASCII escaped", () => {
  assert.equal(troffLiteral("  --since 15m\n.hidden\n'quoted\na\\b\nOFFSET,… done\n\n"), "  \\-\\-since 15m\n\\&.hidden\n\\&'quoted\na\\eb\nOFFSET,\\[u2026] done");
});
