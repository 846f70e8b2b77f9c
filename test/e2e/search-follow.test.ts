/**
 * `logship search --follow` and `--context` as an operator runs them: an
 * agent tails a file into a real collector (`logship collector`, embedded
 * search sink) and the CLI runs as its own process. The follow prints the
 * matches written after it started, and keeps doing so while the collector
 * is stopped (SIGTERM) and killed (SIGKILL) and started again: every match
 * once, in file order, none missing. `--context 2` prints the two lines
 * before and after each match, checked against the generator.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { appendFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CollectorStatusJson } from "../../collector/admin/status.ts";
import { agentSetup, collectorSetup, runLogship, startLogship, until, type CollectorSetup, type LogshipProcess } from "../helpers/processes.ts";
import { cleanups } from "../helpers/cleanups.ts";

const SEARCH_TOKEN = "e2e-search-token";
const ADMIN_TOKEN = "e2e-admin-token";
const OPERATOR_TOKENS = `  - { token: ${SEARCH_TOKEN}, tenant: default, role: search }\n  - { token: ${ADMIN_TOKEN}, tenant: default, role: admin }\n`;

/** Line n of a phase: ERROR every fifth line. */
function phaseLines(phase: string, count: number): string[] {
  return Array.from({ length: count }, (_, line) => `${line % 5 === 0 ? "ERROR" : "INFO"} ${phase} line ${line}`);
}

/** Stdout of a running process, line by line. */
function stdoutLines(process: LogshipProcess): string[] {
  const lines: string[] = [];
  let partial = "";
  process.child.stdout?.setEncoding("utf8");
  process.child.stdout?.on("data", (text: string) => {
    partial += text;
    const complete = partial.split("\n");
    partial = complete.pop() ?? "";
    lines.push(...complete);
  });
  return lines;
}

async function indexedEvents(collector: CollectorSetup): Promise<number | undefined> {
  try {
    const response = await fetch(`${collector.url}/v1/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const status = (await response.json()) as CollectorStatusJson;
    const search = status.sinks.find((sink) => sink.sink === "search" && sink.tenant === "default");
    return search !== undefined && search.lag.events === 0 ? search.committed_offset : undefined;
  } catch {
    return undefined; // restarting: asked again
  }
}

test("logship search --follow prints each match written after it started once (in order while nothing fails), across a collector SIGTERM and SIGKILL; --context 2 prints the lines around each match", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-e2e-follow-"));
  const defer = cleanups(t);
  defer(() => rmSync(directory, { recursive: true, force: true }));
  const appLog = join(directory, "app.log");
  const fileLines: string[] = phaseLines("before", 20);
  await writeFile(appLog, fileLines.map((line) => `${line}\n`).join(""));
  const write = async (lines: string[]): Promise<void> => {
    fileLines.push(...lines);
    await appendFile(appLog, lines.map((line) => `${line}\n`).join(""));
  };
  const collectorConfig = await collectorSetup(join(directory, "collector"), OPERATOR_TOKENS);
  await collectorConfig.start();
  defer(() => collectorConfig.process?.kill("SIGKILL"));
  const agentConfig = await agentSetup(join(directory, "agent"), [collectorConfig.url], [appLog]);
  const agent = await agentConfig.start();
  defer(() => agent.kill());
  await until("the first lines to be indexed", 60_000, async () => ((await indexedEvents(collectorConfig)) === 20 ? true : undefined));

  const follow = startLogship(["search", "--config", collectorConfig.configPath, "--follow", 'ERROR AND -"before line"']);
  defer(() => follow.kill("SIGKILL"));
  const printed = stdoutLines(follow);
  // The follow starts at "now" once its request arrives: warm-up lines until one is printed; every line after that one is after its start.
  let warmups = 0;
  await until("the follow to print a warm-up line", 60_000, async () => {
    if (printed.length > 0) return true;
    await write([`ERROR warmup ${warmups++}`]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    return undefined;
  });
  const firstPrinted = fileLines.indexOf((printed[0] ?? "").split(" ").slice(3).join(" "));
  assert.ok(firstPrinted >= 20, `the first printed line is a warm-up line: ${printed[0]}`);
  const expectedAfter = (lines: readonly string[]): string[] => lines.slice(firstPrinted).filter((line) => line.startsWith("ERROR"));
  const printedMessages = (): string[] => printed.map((line) => line.split(" ").slice(3).join(" "));
  /**
   * Waits until every match written so far is printed; each exactly once, and in file order when `ordered`. A follow prints
   * in the order events were indexed: after an outage the agent's spooled batches can arrive after newer ones (docs/SEARCH.md).
   */
  const waitPrinted = async (what: string, ordered: boolean): Promise<void> => {
    const expected = expectedAfter(fileLines);
    await until(what, 90_000, async () => (printedMessages().length >= expected.length ? true : undefined)).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; printed ${JSON.stringify(printedMessages().slice(-5))}; stderr: ${follow.log.slice(-5).join(" | ")}`);
    });
    if (ordered) assert.deepEqual(printedMessages(), expected, what);
    else assert.deepEqual([...printedMessages()].sort(), [...expected].sort(), what);
  };

  await write(phaseLines("running", 50));
  await waitPrinted("the matches written while the collector runs", true);
  // Each printed line is `time host source message`.
  assert.match(printed.at(-1) ?? "", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z e2e-host e2e ERROR running line 45$/);

  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    await collectorConfig.process?.kill(signal);
    await write(phaseLines(`${signal} down`, 50));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await collectorConfig.start();
    await write(phaseLines(`${signal} back`, 50));
    await waitPrinted(`the matches written around a collector ${signal}`, false);
  }
  assert.ok(follow.log.some((line) => /\/v1\/tail: .*; reconnecting from position \d+$/.test(line)), `a notice on stderr when the stream broke: ${follow.log.join(" | ")}`);

  // SIGINT or SIGTERM ends a follow with exit 0.
  await follow.kill("SIGTERM");
  assert.deepEqual(await follow.exited, { code: 0, signal: null });
  assert.deepEqual([...printedMessages()].sort(), [...expectedAfter(fileLines)].sort(), "nothing more was printed");

  // --context 2: the two lines before and after each match in the file, `:` after the source of a match, `-` around it, `--` between groups.
  await until("every line to be indexed", 60_000, async () => ((await indexedEvents(collectorConfig)) === fileLines.length ? true : undefined));
  const context = await runLogship(["search", "--config", collectorConfig.configPath, "--context", "2", "--limit", "1000", 'ERROR AND "line"']);
  assert.equal(context.code, 0, context.stderr);
  const groups = context.stdout.trimEnd().split("\n--\n").map((group) => group.split("\n").map((line) => line.replace(/^\S+ e2e-host e2e([:-]) /, "$1 ")));
  const expectedGroups = fileLines.flatMap((line, index) => {
    if (!line.startsWith("ERROR") || line.includes("warmup")) return [];
    return [fileLines.slice(Math.max(0, index - 2), index + 3).map((neighbour) => `${neighbour === line ? ":" : "-"} ${neighbour}`)];
  });
  assert.deepEqual([...groups].sort(), [...expectedGroups].sort());
  assert.ok(groups.length > 10);
});
