/**
 * The tokens of `logship up` (docs/UP.md, "Tokens"). A collector without
 * tokens lets anyone who reaches it ingest and search; even on loopback that
 * is every local user and every web page's fetch to 127.0.0.1, so up never
 * runs open:
 *
 * - With no `collector.tokens` (the default) the collector accepts one
 *   operator token, role admin, tenant default: `$LOGSHIP_TOKEN` when set
 *   (then `logship search` in the same shell needs no `--token`), else the
 *   one kept in `<data_dir>/token` — made at the first start (mode 0600,
 *   written atomically) and the same at every later one, so a printed
 *   search command keeps working across restarts.
 * - With `collector.tokens` written, those are the table, and the token
 *   printed for searching is the first `search` token, else `admin`.
 * - The local agent presents `agent.token` when written (it must be one
 *   of `collector.tokens` when those are written; else it is accepted as an
 *   ingest token of tenant default), else a token made
 *   at each start (role ingest, tenant default) that lives only in this
 *   process: it is never printed or stored, and the agent's spooled
 *   batches are sent again under the new one after a restart.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { TokenConfig } from "../collector/config.ts";
import type { Env } from "../shared/config/env.ts";
import { ConfigError } from "../shared/errors.ts";
import { writeFileAtomic } from "../shared/fs-atomic.ts";

/** The file under data_dir that keeps the operator token. */
export const TOKEN_FILE = "token";

export interface LocalTokens {
  /** The collector's token table. */
  tokens: TokenConfig[];
  /** What the local agent presents. */
  agentToken: string;
  /** What to search with (printed at start); undefined when the configured tokens have no search or admin token. */
  searchToken: string | undefined;
  /** Where the search token came from, for the banner. */
  searchTokenOrigin: "LOGSHIP_TOKEN" | "token file" | "collector.tokens" | undefined;
}

export interface LocalTokensOptions {
  configured: readonly TokenConfig[];
  agentToken: string | undefined;
  dataDir: string;
  env: Env;
}

export async function localTokens(options: LocalTokensOptions): Promise<LocalTokens> {
  const tokens: TokenConfig[] = [...options.configured];
  let searchToken: string | undefined;
  let searchTokenOrigin: LocalTokens["searchTokenOrigin"];
  if (tokens.length === 0) {
    const fromEnv = options.env["LOGSHIP_TOKEN"];
    searchToken = fromEnv !== undefined && fromEnv !== "" ? fromEnv : await storedToken(options.dataDir);
    searchTokenOrigin = fromEnv !== undefined && fromEnv !== "" ? "LOGSHIP_TOKEN" : "token file";
    tokens.push({ token: searchToken, tenant: "default", role: "admin" });
  } else {
    searchToken = (tokens.find((token) => token.role === "search") ?? tokens.find((token) => token.role === "admin"))?.token;
    searchTokenOrigin = searchToken === undefined ? undefined : "collector.tokens";
  }
  let agentToken = options.agentToken;
  if (agentToken === undefined) {
    agentToken = newToken();
    tokens.push({ token: agentToken, tenant: "default", role: "ingest" });
  } else if (!tokens.some((token) => token.token === agentToken)) {
    if (options.configured.length > 0) throw new ConfigError("agent.token is not one of collector.tokens: the local agent could not ship");
    tokens.push({ token: agentToken, tenant: "default", role: "ingest" });
  }
  return { tokens, agentToken, searchToken, searchTokenOrigin };
}

/** The token in `<dataDir>/token`, made and stored on first use. */
async function storedToken(dataDir: string): Promise<string> {
  const path = join(dataDir, TOKEN_FILE);
  let text: string | undefined;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw new ConfigError(`cannot read the token file ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (text !== undefined) {
    const token = text.trim();
    if (token === "" || /\s/.test(token)) throw new ConfigError(`the token file ${path} must hold one token on one line; delete it to have a new one made`);
    return token;
  }
  const token = newToken();
  await mkdir(dataDir, { recursive: true });
  await writeFileAtomic(path, `${token}\n`, { mode: 0o600 });
  return token;
}

/** 192 random bits, URL- and shell-safe. */
function newToken(): string {
  return randomBytes(24).toString("base64url");
}
