import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAgentApi } from "../../../agent/api.ts";
import type { AgentStatus } from "../../../agent/agent.ts";
import { silentLogger } from "../../logger.ts";
import type { CliContext } from "../context.ts";
import { runCli } from "../program.ts";

function captureContext(): CliContext & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, writeOut: (text) => out.push(text), writeErr: (text) => err.push(text), env: {}, exitCode: 0 };
}

/** The fields the agent's status table shows. */
const AGENT_STATUS = {
  host: "web-1",
  agent_id: "agent-7",
  files: [{ currentPath: "/var/log/app.log", source: "app", state: "tailing", readOffset: 1200, ackedOffset: 1000 }],
  spool: { bytes: 0, bytesMax: 1024, records: 0, droppedBatches: 0 },
  collectors: [{ url: "http://127.0.0.1:7170", healthy: true, inFlight: 0, delivered: 3, lastError: null }],
  batches: { delivered: 3, duplicates: 0, retries: 0, rejected: 0, backlog: 0 },
} as unknown as AgentStatus;

test("status asks an agent's API: with --server (the collector route answers 404 there) and with --config of an agent", async (t) => {
  const api = await startAgentApi("127.0.0.1:0", () => AGENT_STATUS, silentLogger);
  t.after(() => api.server.close());
  const byServer = captureContext();
  assert.equal(await runCli(["status", "--server", api.address], byServer), 0, byServer.err.join(""));
  assert.match(byServer.out.join(""), /^agent agent-7 on web-1\n\nfile\s+source\s+state\s+read\s+acked\s+lag\n\/var\/log\/app\.log\s+app\s+tailing\s+1200\s+1000\s+200\n/);

  const directory = mkdtempSync(join(tmpdir(), "logship-status-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const agentConfig = join(directory, "agent.yaml");
  writeFileSync(agentConfig, `data_dir: data\ncollectors: [http://127.0.0.1:7170]\napi: { listen: ${api.address.replace("http://", "")} }\nsources:\n  - { name: app, paths: ["*.log"] }\n`);
  const byConfig = captureContext();
  assert.equal(await runCli(["status", "--config", agentConfig, "--json"], byConfig), 0, byConfig.err.join(""));
  assert.equal(JSON.parse(byConfig.out.join("")).agent_id, "agent-7");

  // Neither kind of config: a usage error that says how the kind is told.
  const neither = join(directory, "neither.yaml");
  writeFileSync(neither, "hello: world\n");
  const unknown = captureContext();
  assert.equal(await runCli(["status", "--config", neither], unknown), 2);
  assert.match(unknown.err.join(""), /cannot tell an agent config \(has `sources`\) from a collector config/);
});
