/**
 * How `logship status`, `replay` and `search` reach a running collector's
 * operator and search routes (docs/SINKS.md, docs/SEARCH.md): its URL and
 * the token to present, from `--server` / `--token` / LOGSHIP_TOKEN or from
 * its config file, then one JSON request whose failures read as one line an
 * operator can act on.
 *
 * Token order: `--token`, then LOGSHIP_TOKEN, then the first token of the
 * config whose role may do the operation, in the order the command asks
 * (status: admin before search; search: search before admin). A collector
 * without tokens is open and needs none.
 */
import type { CollectorConfig, TokenConfig } from "../../collector/config.ts";
import { ConfigError, LogshipError } from "../errors.ts";

export interface CollectorTarget {
  /** `http://host:port`, no trailing slash. */
  url: string;
  token: string | undefined;
}

export type OperatorRole = TokenConfig["role"];

/** A URL from `--server`; throws ConfigError for anything but http(s). */
export function serverUrl(server: string, flag = "--server"): string {
  if (!/^https?:\/\/[^/]/.test(server)) throw new ConfigError(`${flag}: expected a URL like http://127.0.0.1:7170, got ${JSON.stringify(server)}`);
  return server.replace(/\/+$/, "");
}

/**
 * The collector of a config file: its `listen` address as a URL a local
 * client can use (a wildcard address means this host), and a token with
 * one of `roles` unless `explicitToken` is given.
 */
export function targetFromConfig(file: string, config: CollectorConfig, roles: readonly OperatorRole[], explicitToken: string | undefined): CollectorTarget {
  const separator = config.listen.lastIndexOf(":");
  const host = config.listen.slice(0, separator).replace(/^\[(.*)\]$/, "$1");
  const port = config.listen.slice(separator + 1);
  if (port === "0") throw new ConfigError(`${file}: listen port 0 is chosen when the collector starts; pass --server with the address it logged`);
  const localHost = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host;
  const url = `http://${localHost.includes(":") ? `[${localHost}]` : localHost}:${port}`;
  if (explicitToken !== undefined || config.tokens.length === 0) return { url, token: explicitToken };
  for (const role of roles) {
    const token = config.tokens.find((candidate) => candidate.role === role);
    if (token !== undefined) return { url, token: token.token };
  }
  throw new ConfigError(`${file} has no token with role ${roles.join(" or ")}; pass --token (or set LOGSHIP_TOKEN)`);
}

/** The flags a command names its collector with. */
export interface TargetFlags {
  config?: string;
  server?: string;
  token?: string;
}

/**
 * The collector of `--config` (its address, and a token with one of
 * `roles` unless one is given; `--server` overrides the address) or of
 * `--server`; with neither, `fallbackServer` (a ConfigError when there is
 * none). The config module is imported only when a config is given.
 */
export async function resolveTarget(flags: TargetFlags, roles: readonly OperatorRole[], env: Readonly<Record<string, string | undefined>>, fallbackServer: string | undefined): Promise<CollectorTarget> {
  const token = explicitToken(flags.token, env);
  if (flags.config === undefined) {
    if (flags.server === undefined && fallbackServer === undefined) throw new ConfigError("pass --config (the collector's config file) or --server URL");
    return { url: flags.server === undefined ? serverUrl(fallbackServer as string, "LOGSHIP_SERVER") : serverUrl(flags.server), token };
  }
  const { loadCollectorConfig } = await import("../../collector/config.ts");
  const target = targetFromConfig(flags.config, loadCollectorConfig(flags.config, env), roles, token);
  if (flags.server !== undefined) target.url = serverUrl(flags.server);
  return target;
}

/** `--token`, else LOGSHIP_TOKEN, else undefined. */
export function explicitToken(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const token = flag ?? env["LOGSHIP_TOKEN"];
  return token === "" ? undefined : token;
}

export interface CollectorAnswer {
  status: number;
  body: string;
}

/** One request, answered within `timeoutMs`; rejects only when there is no answer (LogshipError). */
export async function collectorRequest(target: CollectorTarget, method: "GET" | "POST", path: string, timeoutMs: number, json?: unknown): Promise<CollectorAnswer> {
  const { request } = await import("undici");
  const headers: Record<string, string> = {};
  if (target.token !== undefined) headers["authorization"] = `Bearer ${target.token}`;
  if (json !== undefined) headers["content-type"] = "application/json";
  try {
    const response = await request(`${target.url}${path}`, {
      method,
      headers,
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    return { status: response.statusCode, body: await response.body.text() };
  } catch (error) {
    throw new LogshipError("LOGSHIP_UNREACHABLE", `no answer from ${target.url}${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The error of a refused request, as one line: the collector's own reason.
 * A request that cannot succeed as given (bad argument, token) is a
 * ConfigError (exit 2); a passing condition (busy, stopping) exits 1.
 */
export function refusal(target: CollectorTarget, answer: CollectorAnswer): Error {
  let reason = answer.body.slice(0, 500);
  let code = "";
  try {
    const parsed = JSON.parse(answer.body) as { error?: unknown; code?: unknown };
    if (typeof parsed.error === "string") reason = parsed.error;
    if (typeof parsed.code === "string") code = parsed.code;
  } catch {
    // Not JSON (a proxy's page): the start of the body is the reason.
  }
  if (code === "LOGSHIP_AUTH_MISSING") reason = "the collector needs a token: pass --token, set LOGSHIP_TOKEN, or use --config with the collector's config";
  const message = `${target.url} answered ${answer.status}: ${reason}`;
  const usage = answer.status >= 400 && answer.status < 500 && answer.status !== 409 && answer.status !== 429 && answer.status !== 408;
  return usage ? new ConfigError(message) : new LogshipError(code === "" ? "LOGSHIP_COLLECTOR_REFUSED" : code, message);
}
