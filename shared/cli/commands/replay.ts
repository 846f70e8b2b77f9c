/**
 * `logship replay --sink NAME --from TIME|OFFSET [--tenant T]
 *  (--config F | --server URL [--token T]) [--json]`: re-delivers a range
 * of the log to one sink by moving its committed offset back, through the
 * running collector (`POST /v1/sinks/<name>/replay`, role admin). Sinks are
 * idempotent by event id, so nothing is stored twice. docs/SINKS.md.
 *
 * `--from` is an offset (digits), an RFC 3339 time (no offset: UTC), or a
 * duration meaning that long ago (`15m`, `2h`); the collector turns a time
 * into the first record at or after it through the log's time index. With
 * the Kafka log (docs/KAFKA.md, "Replay") an offset applies to every
 * partition, `PARTITION:OFFSET[,PARTITION:OFFSET…]` names partitions, a
 * time is Kafka's record timestamp, and the collector answers once a
 * replay runner of its own is re-delivering the range (`logship status`
 * shows its progress).
 */
import { Command } from "commander";
import { parseDuration } from "../../config/units.ts";
import { ConfigError } from "../../errors.ts";
import type { CliContext } from "../context.ts";

interface ReplayOptions {
  sink: string;
  from: string;
  tenant: string;
  config?: string;
  server?: string;
  token?: string;
  json?: boolean;
}

/** The answer with the embedded log. */
interface ReplayAnswer {
  sink: string;
  tenant: string;
  from_offset: number;
  previous_offset: number;
  committed_offset: number;
  end_offset: number;
  replayed_events: number;
}

/** The answer with the Kafka log. */
interface KafkaReplayAnswer {
  sink: string;
  tenant: string;
  group: string | null;
  partitions: { partition: number; from_offset: number; committed_offset: number | null; end_offset: number; records: number }[];
  replayed_records: number;
}

/** Partitions `--from` may name at most (as the collector accepts). */
const REPLAY_PARTITIONS_MAX = 10_000;

/** The collector answers once the runner applied the replay, after the sink's in-flight send (if any) ended. */
const REPLAY_TIMEOUT_MS = 120_000;

export function replayCommand(context: CliContext): Command {
  return new Command("replay")
    .description("re-deliver a range of a collector's log to one sink (its committed offset moves back; sinks drop what they already hold by event id)")
    .requiredOption("--sink <name>", "sink to re-deliver to")
    .requiredOption("--from <time|offset>", "log offset (1200; with the Kafka log: in every partition, or PARTITION:OFFSET,… per partition), RFC 3339 time (2025-06-01T12:00:00Z) or duration ago (15m, 2h)")
    .option("--tenant <tenant>", "tenant whose log to replay", "default")
    .option("-c, --config <file>", "the collector's config: its listen address and an admin token")
    .option("--server <url>", "collector address (with --token or LOGSHIP_TOKEN)")
    .option("--token <token>", "token with role admin (default: $LOGSHIP_TOKEN, else from --config)")
    .option("--json", "print the collector's answer as JSON")
    .action(async (options: ReplayOptions) => {
      const from = await parseReplayFrom(options.from, Date.now());
      const api = await import("../collector-api.ts");
      const target = await api.resolveTarget(options, ["admin"], context.env, undefined);
      const body = { tenant: options.tenant, ...fromField(from) };
      const answer = await api.collectorRequest(target, "POST", `/v1/sinks/${encodeURIComponent(options.sink)}/replay`, REPLAY_TIMEOUT_MS, body);
      if (answer.status !== 200) throw api.refusal(target, answer);
      if (options.json === true) {
        context.writeOut(answer.body.endsWith("\n") ? answer.body : `${answer.body}\n`);
        return;
      }
      const parsed = JSON.parse(answer.body) as ReplayAnswer | KafkaReplayAnswer;
      const fromTime = "timeMs" in from ? new Date(from.timeMs).toISOString() : undefined;
      context.writeOut("partitions" in parsed ? describeKafkaReplay(parsed, fromTime) : describeReplay(parsed, fromTime));
    });
}

type ReplayFrom = { offset: number } | { timeMs: number } | { partitionOffsets: Map<number, number> };

/** The request body's start field (collector/admin/routes.ts). */
function fromField(from: ReplayFrom): Record<string, unknown> {
  if ("offset" in from) return { from_offset: from.offset };
  if ("timeMs" in from) return { from_time_ms: from.timeMs };
  return { from_offsets: Object.fromEntries([...from.partitionOffsets].map(([partition, offset]) => [String(partition), offset])) };
}

/** `--from`: digits are an offset; `P:O,…` offsets per partition; else an RFC 3339 time; else a duration before `nowMs`. Rejects with ConfigError. */
export async function parseReplayFrom(text: string, nowMs: number): Promise<ReplayFrom> {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { offset: wholeNumber(trimmed, "offset") };
  if (/^\d+:\d+(,\d+:\d+)*$/.test(trimmed)) return { partitionOffsets: parsePartitionOffsets(trimmed) };
  // Imported here: the agent's process loads every command module, and needs no time parser for this one.
  const { compileTimeFormat } = await import("../../../agent/parsers/time.ts");
  const timeMs = compileTimeFormat("rfc3339")(trimmed, nowMs) ?? durationAgo(trimmed, nowMs);
  if (timeMs === undefined) {
    throw new ConfigError(`--from: expected an offset (1200), an RFC 3339 time (2025-06-01T12:00:00Z) or a duration ago (15m, 2h); got ${JSON.stringify(text)}`);
  }
  return { timeMs };
}

/** `0:120,3:0` → partition → offset; each partition once. */
function parsePartitionOffsets(text: string): Map<number, number> {
  const offsets = new Map<number, number>();
  for (const pair of text.split(",")) {
    const [partition, offset] = pair.split(":") as [string, string];
    const number = wholeNumber(partition, "partition");
    if (offsets.has(number)) throw new ConfigError(`--from: partition ${number} is given twice`);
    offsets.set(number, wholeNumber(offset, "offset"));
  }
  if (offsets.size > REPLAY_PARTITIONS_MAX) throw new ConfigError(`--from: at most ${REPLAY_PARTITIONS_MAX} partitions`);
  return offsets;
}

function wholeNumber(digits: string, what: string): number {
  const value = Number(digits);
  if (!Number.isSafeInteger(value)) throw new ConfigError(`--from: ${what} ${digits} is too large`);
  return value;
}

/** `15m`, `2h`, `1h30m` before `nowMs`; undefined when `text` is not a duration. */
function durationAgo(text: string, nowMs: number): number | undefined {
  try {
    return nowMs - parseDuration(text);
  } catch (error) {
    if (error instanceof ConfigError) return undefined;
    throw error;
  }
}

function describeReplay(answer: ReplayAnswer, fromTime: string | undefined): string {
  const where = `sink ${answer.sink}, tenant ${answer.tenant}`;
  const start = fromTime === undefined ? `offset ${answer.from_offset}` : `offset ${answer.from_offset} (the first record at or after ${fromTime})`;
  if (answer.replayed_events === 0) {
    return `${where}: nothing to replay from ${start}; the sink has not confirmed past it yet (committed offset ${answer.previous_offset}) and delivers from there anyway\n`;
  }
  return (
    `${where}: committed offset moved back from ${answer.previous_offset} to ${answer.committed_offset}; ` +
    `${answer.replayed_events} events are delivered again from ${start} (log end ${answer.end_offset}). ` +
    `The sink drops events it already holds by id, so nothing is stored twice.\n`
  );
}

function describeKafkaReplay(answer: KafkaReplayAnswer, fromTime: string | undefined): string {
  const where = `sink ${answer.sink}, tenant ${answer.tenant}`;
  const since = fromTime === undefined ? "" : ` (the first records produced at or after ${fromTime})`;
  if (answer.replayed_records === 0) {
    return `${where}: nothing to replay${since}; the sink's consumer group has not committed past that point in any partition, so it delivers those records anyway\n`;
  }
  const ranges = answer.partitions
    .filter((entry) => entry.records > 0)
    .map((entry) => `${entry.partition}:${entry.from_offset}-${entry.committed_offset ?? entry.from_offset}`)
    .join(" ");
  return (
    `${where}: replaying ${answer.replayed_records} Kafka records${since}, partition:from-to ${ranges}, in consumer group ${answer.group}; ` +
    `the tenant's events among them are delivered again (logship status shows the progress). The sink drops events it already holds by id, so nothing is stored twice.\n`
  );
}
