/**
 * `logship status [--server URL | --config F] [--token T] [--json]`: an
 * agent's files, spool and collectors, or a collector's ingest, log and
 * sink lag.
 *
 * Which one: `--config` is read and its kind detected (agent: ask its
 * api.listen; collector: its listen, with a token of role admin or search
 * from the file unless one is given). `--server` alone is asked for the
 * collector route `/v1/status` first; an agent API answers that 404, and is
 * then asked for its `/status`. The HTTP client and the collector's
 * formatter are imported only when needed (the agent's process loads every
 * command module).
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import type { AgentStatus } from "../../../agent/agent.ts";
import { detectConfigKind, type ConfigKind } from "../../config/kinds.ts";
import { ConfigError, LogshipError } from "../../errors.ts";
import type { CliContext } from "../context.ts";
import { table } from "../table.ts";

interface StatusOptions {
  server?: string;
  config?: string;
  token?: string;
  json?: boolean;
}

const AGENT_API_DEFAULT = "http://127.0.0.1:7171";
const STATUS_TIMEOUT_MS = 10_000;

export function statusCommand(context: CliContext): Command {
  return new Command("status")
    .description("show an agent's files, offsets, lag and spool, or a collector's ingest, log and sink lag")
    .option("--server <url>", `agent API or collector address (default: from --config, else ${AGENT_API_DEFAULT})`)
    .option("-c, --config <file>", "agent or collector config (kind detected) whose address to ask")
    .option("--token <token>", "collector token with role admin (every tenant) or search (its tenant); default: $LOGSHIP_TOKEN, else from a collector --config")
    .option("--json", "print the raw JSON")
    .action(async (options: StatusOptions) => {
      const kind = options.config === undefined ? undefined : await configKind(options.config, context.env);
      if (kind === "up") throw new ConfigError(`${options.config as string} is a logship up config: ask the collector it runs, with the status command logship up printed (--server URL --token T)`);
      if (kind === "collector") return collectorStatus(options.config as string, options, context);
      let server = options.server;
      if (server === undefined && options.config !== undefined) {
        const { loadAgentConfig } = await import("../../../agent/config.ts");
        server = `http://${loadAgentConfig(options.config, context.env).api.listen}`;
      }
      // Without --server, the address is an agent's (its config's, or the default); --server alone may be either.
      await serverStatus(server ?? AGENT_API_DEFAULT, kind === "agent" || options.server === undefined, options, context);
    });
}

/** The kind of config `file` holds, from its top-level keys (shared/config/kinds.ts). */
async function configKind(file: string, env: CliContext["env"]): Promise<ConfigKind> {
  const { formatIssue, parseConfigYaml } = await import("../../config/load.ts");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = parseConfigYaml(text, file, env);
  if (!parsed.ok) throw new ConfigError(parsed.issues.map(formatIssue).join("\n"));
  const kind = detectConfigKind(parsed.document.toJS());
  if (kind === undefined) throw new ConfigError(`${file}: cannot tell an agent config (has \`sources\`) from a collector config (has \`listen\`, \`tokens\`, \`sinks\` or \`log\`)`);
  return kind;
}

/** A collector's status, its address and token from its config file (`--server` and `--token` override them). */
async function collectorStatus(configFile: string, options: StatusOptions, context: CliContext): Promise<void> {
  const { loadCollectorConfig } = await import("../../../collector/config.ts");
  const api = await import("../collector-api.ts");
  const config = loadCollectorConfig(configFile, context.env);
  const target = api.targetFromConfig(configFile, config, ["admin", "search"], api.explicitToken(options.token, context.env));
  if (options.server !== undefined) target.url = api.serverUrl(options.server);
  const answer = await api.collectorRequest(target, "GET", "/v1/status", STATUS_TIMEOUT_MS);
  if (answer.status !== 200) throw api.refusal(target, answer);
  await printCollectorStatus(answer.body, target.url, options, context);
}

/** Asks `server`: the collector route first unless it is known to be an agent. */
async function serverStatus(server: string, knownAgent: boolean, options: StatusOptions, context: CliContext): Promise<void> {
  const api = await import("../collector-api.ts");
  const target = { url: api.serverUrl(server), token: api.explicitToken(options.token, context.env) };
  if (!knownAgent) {
    const answer = await api.collectorRequest(target, "GET", "/v1/status", STATUS_TIMEOUT_MS);
    if (answer.status === 200) return printCollectorStatus(answer.body, target.url, options, context);
    if (answer.status !== 404) throw api.refusal(target, answer);
  }
  const answer = await api.collectorRequest(target, "GET", "/status", STATUS_TIMEOUT_MS);
  if (answer.status !== 200) throw new LogshipError("LOGSHIP_STATUS", `${target.url} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  printJsonOr(answer.body, options, context, () => formatAgentStatus(JSON.parse(answer.body) as AgentStatus));
}

async function printCollectorStatus(body: string, url: string, options: StatusOptions, context: CliContext): Promise<void> {
  const { formatCollectorStatus } = await import("../collector-status.ts");
  printJsonOr(body, options, context, () => formatCollectorStatus(JSON.parse(body), url));
}

function printJsonOr(body: string, options: StatusOptions, context: CliContext, format: () => string): void {
  context.writeOut(options.json === true ? (body.endsWith("\n") ? body : `${body}\n`) : format());
}

export function formatAgentStatus(status: AgentStatus): string {
  const lines = [`agent ${status.agent_id} on ${status.host}`, ""];
  lines.push(table(["file", "source", "state", "read", "acked", "lag"], status.files.map((file) => [file.currentPath, file.source, file.state, String(file.readOffset), String(file.ackedOffset), String(file.readOffset - file.ackedOffset)])));
  lines.push("");
  const spool = status.spool;
  lines.push(`spool: ${spool.bytes} of ${spool.bytesMax} bytes, ${spool.records} batches waiting, ${spool.droppedBatches} dropped`);
  lines.push(`batches: ${status.batches.delivered} delivered (${status.batches.duplicates} duplicates), ${status.batches.retries} retries, ${status.batches.rejected} rejected, ${status.batches.backlog} in backlog`);
  lines.push("");
  lines.push(table(["collector", "healthy", "in flight", "delivered", "last error"], status.collectors.map((collector) => [collector.url, collector.healthy ? "yes" : "no", String(collector.inFlight), String(collector.delivered), collector.lastError ?? ""])));
  return lines.join("\n") + "\n";
}
