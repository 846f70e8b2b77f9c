/**
 * `sinks.search` with `type: opensearch` (validated by collector/config.ts)
 * into the client's and the sink's options, with the defaults below. The
 * only I/O is reading `tls.ca_file`, when the sink is built: a missing file
 * stops the collector's start with a ConfigError naming it.
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "../../../shared/errors.ts";
import type { SearchSinkConfig } from "../../config.ts";
import type { OpenSearchAuth, OpenSearchClientOptions } from "../../opensearch/client.ts";
import { INDEX_TEMPLATE_DEFAULT } from "../../opensearch/index-name.ts";

export const BULK_BYTES_MAX_DEFAULT = 8 * 1024 * 1024;
export const BULK_EVENTS_MAX_DEFAULT = 5000;
export const TIMEOUT_MS_DEFAULT = 30_000;
/** Connections to the cluster: one bulk per runner at a time, plus searches. */
export const CONNECTIONS_MAX = 8;

export interface OpenSearchSettings {
  client: OpenSearchClientOptions;
  indexTemplate: string;
  gzip: boolean;
  bulkBytesMax: number;
  bulkEventsMax: number;
  shards?: number;
  replicas?: number;
}

export function openSearchSettings(config: SearchSinkConfig, readFile: (path: string) => string = (path) => readFileSync(path, "utf8")): OpenSearchSettings {
  if (config.type !== "opensearch" || config.url === undefined) throw new ConfigError("sinks.search is not an opensearch sink with a url");
  const auth: OpenSearchAuth | undefined =
    config.token !== undefined ? { kind: "bearer", token: config.token } : config.user !== undefined && config.password !== undefined ? { kind: "basic", user: config.user, password: config.password } : undefined;
  const client: OpenSearchClientOptions = { url: config.url, timeoutMs: config.timeout ?? TIMEOUT_MS_DEFAULT, connections: CONNECTIONS_MAX };
  if (auth !== undefined) client.auth = auth;
  if (config.tls?.ca_file !== undefined) {
    try {
      client.caPem = readFile(config.tls.ca_file);
    } catch (error) {
      throw new ConfigError(`sinks.search.tls.ca_file: cannot read ${config.tls.ca_file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (config.tls?.verify === false) client.verifyCertificate = false;
  const settings: OpenSearchSettings = {
    client,
    indexTemplate: config.index ?? INDEX_TEMPLATE_DEFAULT,
    gzip: (config.compression ?? "gzip") === "gzip",
    bulkBytesMax: config.bulk_max_bytes ?? BULK_BYTES_MAX_DEFAULT,
    bulkEventsMax: config.bulk_max_events ?? BULK_EVENTS_MAX_DEFAULT,
  };
  if (config.shards !== undefined) settings.shards = config.shards;
  if (config.replicas !== undefined) settings.replicas = config.replicas;
  return settings;
}
