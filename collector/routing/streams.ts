/**
 * Stream names and the logs they are stored in (docs/ROUTING.md). A
 * collector's `routes:` send each event to one named stream; every stream
 * of a tenant is a log of its own, addressed by a *log name*:
 *
 *   default stream   "<tenant>"            data_dir/log/<tenant>/ (the log of a collector without routes)
 *   stream S         "<tenant>@<S>"        data_dir/log/<tenant>@<S>/
 *
 * Tenants cannot contain "@" (identifiers are [A-Za-z0-9_.-]), so the first
 * "@" splits a log name, and a log written before routes existed is the
 * default stream's log unchanged. The log, the idempotence table, the sink
 * runners and their offset files all key on the log name; what a sink shows
 * (the event's `tenant` and `stream`) comes from parseLogName.
 */
import { DEFAULT_STREAM_NAME } from "../../shared/query/index.ts";
import { isValidTenant } from "../log/format.ts";

export const DEFAULT_STREAM = DEFAULT_STREAM_NAME;

/** Letters, digits, "_" and "-": a directory name and a Kafka topic suffix as is. */
export const STREAM_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const LOG_NAME_SEPARATOR = "@";

export function isValidStream(stream: string): boolean {
  return STREAM_NAME_PATTERN.test(stream);
}

/** The log name of `tenant`'s `stream` (the tenant itself for the default stream). */
export function logName(tenant: string, stream: string): string {
  return stream === DEFAULT_STREAM ? tenant : `${tenant}${LOG_NAME_SEPARATOR}${stream}`;
}

/** Tenant and stream of a log name; null when it is neither a tenant nor `<tenant>@<stream>`. */
export function parseLogName(name: string): { tenant: string; stream: string } | null {
  const separator = name.indexOf(LOG_NAME_SEPARATOR);
  if (separator === -1) return isValidTenant(name) ? { tenant: name, stream: DEFAULT_STREAM } : null;
  const tenant = name.slice(0, separator);
  const stream = name.slice(separator + 1);
  if (!isValidTenant(tenant) || !isValidStream(stream) || stream === DEFAULT_STREAM) return null;
  return { tenant, stream };
}

export function isValidLogName(name: string): boolean {
  return parseLogName(name) !== null;
}

/** The tenant of a log name (which must be valid). */
export function tenantOfLog(name: string): string {
  const separator = name.indexOf(LOG_NAME_SEPARATOR);
  return separator === -1 ? name : name.slice(0, separator);
}

/** The stream of a log name (which must be valid). */
export function streamOfLog(name: string): string {
  const separator = name.indexOf(LOG_NAME_SEPARATOR);
  return separator === -1 ? DEFAULT_STREAM : name.slice(separator + 1);
}

/** The log an event a sink got was read from: its tenant, and its stream when not the default. */
export function eventLogName(event: { tenant: string; stream?: string }): string {
  return logName(event.tenant, event.stream ?? DEFAULT_STREAM);
}
