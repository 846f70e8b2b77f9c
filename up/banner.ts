/**
 * What `logship up` prints on stdout once it runs: where it listens, what
 * it tails, where its data goes, and commands to paste — search and status
 * with the address and token filled in — so that the first search needs no
 * reading. Logs stay on stderr; this is the one thing meant for a person.
 */
import { join } from "node:path";
import type { UpPlan } from "./config.ts";
import { TOKEN_FILE, type LocalTokens } from "./tokens.ts";

export interface BannerParts {
  /** How logship is invoked here (`logship`, or `npx node bin/logship.ts` from a checkout). */
  command: string;
  url: string;
  plan: UpPlan;
  tokens: LocalTokens;
  agentApi: string | undefined;
}

export function banner(parts: BannerParts): string {
  const { command, url, plan, tokens } = parts;
  const token = tokens.searchToken;
  const auth = token === undefined ? "" : ` --token ${shellQuote(token)}`;
  const lines = [
    `logship up: collector on ${url}, data in ${plan.dataDir}`,
    ...plan.agent.sources.map((source) => `  tailing  ${source.name}: ${source.paths.join(" ")}`),
    `  search   ${command} search --server ${url}${auth} 'error'`,
    `  status   ${command} status --server ${url}${auth}`,
  ];
  if (token === undefined) lines.push("  token    collector.tokens has no search or admin token: add one to search");
  else if (tokens.searchTokenOrigin === "token file") lines.push(`  token    ${token} (role admin; kept in ${join(plan.dataDir, TOKEN_FILE)})`);
  else lines.push(`  token    from ${tokens.searchTokenOrigin ?? "the config"}`);
  if (parts.agentApi !== undefined) lines.push(`  agent    ${parts.agentApi}/status`);
  lines.push("  stop     Ctrl-C (the agent flushes and checkpoints, then the collector stops)");
  return `${lines.join("\n")}\n`;
}

/** `word` as a POSIX shell reads it back: bare when safe, else single-quoted. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./~-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
