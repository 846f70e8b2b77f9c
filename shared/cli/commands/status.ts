import { Command } from "commander";
import { loadAgentConfig } from "../../../agent/config.ts";
import type { AgentStatus } from "../../../agent/agent.ts";
import { ConfigError, LogshipError } from "../../errors.ts";
import type { CliContext } from "../context.ts";

interface StatusOptions {
  server?: string;
  config?: string;
  json?: boolean;
}

/** `logship status [--server URL | --config F] [--json]`: an agent's files, spool and collectors. */
export function statusCommand(context: CliContext): Command {
  return new Command("status")
    .description("show an agent's files, offsets, lag, spool and collectors")
    .option("--server <url>", "agent API address (default: api.listen of --config, else http://127.0.0.1:7171)")
    .option("-c, --config <file>", "agent config whose api.listen to ask")
    .option("--json", "print the raw JSON")
    .action(async (options: StatusOptions) => {
      let server = options.server;
      if (server === undefined && options.config !== undefined) server = `http://${loadAgentConfig(options.config, context.env).api.listen}`;
      server ??= "http://127.0.0.1:7171";
      if (!/^https?:\/\//.test(server)) throw new ConfigError(`--server: expected a URL like http://127.0.0.1:7171, got "${server}"`);
      let body: string;
      try {
        const { request } = await import("undici");
        const response = await request(`${server.replace(/\/+$/, "")}/status`, { headersTimeout: 5000, bodyTimeout: 5000 });
        body = await response.body.text();
        if (response.statusCode !== 200) throw new LogshipError("LOGSHIP_STATUS", `${server} answered ${response.statusCode}: ${body.slice(0, 200)}`);
      } catch (error) {
        if (error instanceof LogshipError) throw error;
        throw new LogshipError("LOGSHIP_STATUS", `cannot reach the agent at ${server}: ${(error as Error).message}`);
      }
      if (options.json === true) {
        context.writeOut(body.endsWith("\n") ? body : `${body}\n`);
        return;
      }
      context.writeOut(formatAgentStatus(JSON.parse(body) as AgentStatus));
    });
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

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const format = (row: string[]): string => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd();
  return [format(header), ...rows.map(format)].join("\n");
}
