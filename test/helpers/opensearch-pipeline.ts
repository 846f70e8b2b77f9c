/**
 * A real pipeline into OpenSearch for the acceptance tests: files written
 * with numbered lines, a `logship agent` tailing them, a `logship
 * collector` whose search sink is OpenSearch, and the collector's status
 * (sink lag, ingest totals) read through `GET /v1/status`.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { CollectorStatusJson } from "../../collector/admin/status.ts";
import { agentSetup, collectorSetup, type AgentSetup, type CollectorSetup } from "./processes.ts";

export const ADMIN_TOKEN = "opensearch-itest-admin";

export interface OpenSearchPipeline {
  collector: CollectorSetup;
  agent: AgentSetup;
  paths: string[];
}

/** Configs for a collector indexing into `url` under `indexTemplate`, and an agent tailing `names` files under `directory`/logs. */
export async function openSearchPipeline(directory: string, url: string, indexTemplate: string, names: readonly string[], collectorYaml = ""): Promise<OpenSearchPipeline> {
  const logs = join(directory, "logs");
  await mkdir(logs, { recursive: true });
  const paths = names.map((name) => join(logs, `${name}.log`));
  const collector = await collectorSetup(
    join(directory, "collector"),
    `  - { token: ${ADMIN_TOKEN}, tenant: default, role: admin }\nsinks:\n  search: { type: opensearch, url: "${url}", index: "${indexTemplate}", timeout: 10s }\n${collectorYaml}`,
  );
  const agent = await agentSetup(join(directory, "agent"), [collector.url], [join(logs, "*.log")], "batch: { max_bytes: 1MiB, max_events: 20000, linger: 100ms }\n");
  return { collector, agent, paths };
}

/** The collector's status (admin token), or null while it does not answer. */
export async function collectorStatus(collector: CollectorSetup): Promise<CollectorStatusJson | null> {
  try {
    const response = await fetch(`${collector.url}/v1/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(5000) });
    return response.ok ? ((await response.json()) as CollectorStatusJson) : null;
  } catch {
    return null; // not answering (starting): the caller polls again
  }
}

/** The search sink's row of the default tenant. */
export function searchSinkRow(status: CollectorStatusJson): CollectorStatusJson["sinks"][number] | undefined {
  return status.sinks.find((sink) => sink.sink === "search" && sink.tenant === "default");
}
