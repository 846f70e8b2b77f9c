/**
 * Fan-out over the Kafka log: one KafkaLogRunner per configured sink, each
 * a member of its own consumer group, so every sink reads the whole topic
 * at its own pace and a slow or failing sink holds up no other and never
 * ingest (which only produces). The Kafka counterpart of fanout.ts, which
 * keeps one runner per (sink, tenant) over the embedded log: here tenants
 * share the topic and each record names its own.
 *
 * `replay` (POST /v1/sinks/<name>/replay) asks Kafka for the partitions'
 * offsets and the sink group's committed offsets, plans the range
 * (kafka-log-replay.ts), and starts a replay runner that re-delivers it
 * under a consumer group of its own and ends; the answer comes once it is
 * started. One replay per sink runs at a time on a collector; the latest
 * one stays in `sinkStatus` once it ended. A replay lives in the collector
 * that runs it: stopping the collector ends it (logged), and asking again
 * is harmless (sinks are idempotent by event id).
 */
import { ConfigError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import { describeKafkaError } from "../kafka/errors.ts";
import { isValidTenant } from "../log/format.ts";
import { streamTopic } from "../log/kafka/record.ts";
import { DEFAULT_STREAM } from "../routing/streams.ts";
import { KafkaLogOffsets, KafkaOffsetsError, type PartitionOffsets } from "../log/kafka/offsets.ts";
import type { ReplayRequest } from "./fanout.ts";
import { KafkaReplayRange, planKafkaReplay, replayGroup, type KafkaReplayPartitionPlan, type KafkaReplayProgress, type KafkaReplayStart } from "./kafka-log-replay.ts";
import { KafkaLogPositions, type KafkaLogPositionsSnapshot } from "./kafka-log-positions.ts";
import { KafkaLogRunner, type KafkaLogRunnerStatus } from "./kafka-log-runner.ts";
import { ReplayError } from "./replay-error.ts";
import type { SinkRunnerLimits } from "./runner.ts";
import type { Sink } from "./types.ts";

export interface KafkaLogFanoutOptions {
  sinks: readonly Sink[];
  /** The named streams of the routes (each its own topic, `<topic>.<stream>`, docs/ROUTING.md); none: the default stream only. */
  streams?: readonly string[];
  /** The streams a sink reads, by sink name; a sink not named here reads every stream. */
  subscriptions?: ReadonlyMap<string, readonly string[]>;
  brokers: readonly string[];
  /** The default stream's topic. */
  topic: string;
  timeoutMs: number;
  sessionTimeoutMs: number;
  dataDirectory: string;
  logger: Logger;
  limits?: Partial<SinkRunnerLimits>;
}

export interface KafkaReplayResult {
  sink: string;
  tenant: string;
  /** The replay's own consumer group; null when there was nothing to replay (no runner started). */
  group: string | null;
  partitions: KafkaReplayPartitionPlan[];
  /** Records delivered again, summed over the partitions (only the tenant's events among them reach the sink). */
  records: number;
}

/** A replay running, or the latest one that ended, on this collector. */
export interface KafkaReplayStatus {
  tenant: string;
  group: string;
  /** `running`; `done` once every record of the range was delivered; `stopped` when the collector stopped first. */
  state: "running" | "done" | "stopped";
  startedMs: number;
  endedMs: number | null;
  partitions: KafkaReplayProgress[];
  remainingRecords: number;
  runner: KafkaLogRunnerStatus;
}

export interface KafkaSinkStatus {
  runner: KafkaLogRunnerStatus;
  /** Replays this collector started for the sink. */
  replays: number;
  /** Events the replays delivered and rejected, summed over them (beside the runner's own counts). */
  replayDeliveredEvents: number;
  replayRejectedEvents: number;
  replay: KafkaReplayStatus | null;
}

interface SinkReplays {
  latest: Replay | null;
  started: number;
  /** Counts of the replays before `latest`. */
  earlierDelivered: number;
  earlierRejected: number;
  /** A request is between its checks and its start (a second one meanwhile is refused). */
  starting: boolean;
}

interface Replay {
  range: KafkaReplayRange;
  runner: KafkaLogRunner;
  startedMs: number;
  endedMs: number | null;
}

export class KafkaLogFanout {
  readonly offsets: KafkaLogOffsets;
  /** The topics' offsets and the runners' lag for /metrics. */
  private readonly positions: KafkaLogPositions;
  private readonly options: KafkaLogFanoutOptions;
  /** The default stream's runners, one per sink that reads it. */
  private readonly runners: KafkaLogRunner[];
  /** One per (sink, named stream it reads): a group of its own over the stream's topic. */
  private readonly streamRunners: KafkaLogRunner[];
  /** Per sink: its replay running or the latest that ended, and counts over all of them. */
  private readonly replays = new Map<string, SinkReplays>();
  private closed = false;

  /** Checks sink names (pure; throws ConfigError): they name consumer groups and dead-letter directories. */
  constructor(options: KafkaLogFanoutOptions) {
    const names = new Set<string>();
    for (const sink of options.sinks) {
      if (!isValidTenant(sink.name)) throw new ConfigError(`sink name ${JSON.stringify(sink.name)} cannot be used as a directory name`);
      if (names.has(sink.name)) throw new ConfigError(`two sinks are named ${JSON.stringify(sink.name)}`);
      names.add(sink.name);
    }
    const { sinks, streams: _streams, subscriptions: _subscriptions, ...shared } = options;
    this.options = options;
    const reads = (sink: Sink, stream: string): boolean => options.subscriptions?.get(sink.name)?.includes(stream) ?? true;
    this.runners = sinks.filter((sink) => reads(sink, DEFAULT_STREAM)).map((sink) => new KafkaLogRunner({ ...shared, sink }));
    this.streamRunners = sinks.flatMap((sink) =>
      (options.streams ?? []).filter((stream) => reads(sink, stream)).map((stream) => new KafkaLogRunner({ ...shared, sink, topic: streamTopic(options.topic, stream), stream })),
    );
    for (const sink of sinks) this.replays.set(sink.name, { latest: null, started: 0, earlierDelivered: 0, earlierRejected: 0, starting: false });
    this.offsets = new KafkaLogOffsets({ brokers: options.brokers, topic: options.topic, timeoutMs: options.timeoutMs });
    this.positions = new KafkaLogPositions({ brokers: options.brokers, timeoutMs: options.timeoutMs, logger: options.logger });
  }

  /** Every runner starts joining its group in the background (Kafka being down is logged and retried, never thrown). */
  start(): void {
    for (const runner of [...this.runners, ...this.streamRunners]) runner.start();
  }

  status(): KafkaLogRunnerStatus[] {
    return [...this.runners, ...this.streamRunners].map((runner) => runner.status());
  }

  /** The offsets of the log's topics (the default stream's and each routed stream's) and each runner's group lag, from Kafka (/metrics). */
  positionsSnapshot(): Promise<KafkaLogPositionsSnapshot> {
    const topics = [this.options.topic, ...(this.options.streams ?? []).map((stream) => streamTopic(this.options.topic, stream))];
    return this.positions.snapshot(topics, this.status().map((runner) => ({ sink: runner.sink, group: runner.group, topic: runner.topic })));
  }

  /** Names of the configured sinks, in config order. */
  sinkNames(): string[] {
    return this.options.sinks.map((sink) => sink.name);
  }

  /** Each sink's runner, with its replays on this collector. */
  sinkStatus(): KafkaSinkStatus[] {
    return this.runners.map((runner) => {
      const replays = this.replays.get(runner.sink.name);
      const latest = replays?.latest ?? null;
      const replay = latest === null ? null : replayStatus(latest);
      return {
        runner: runner.status(),
        replays: replays?.started ?? 0,
        replayDeliveredEvents: (replays?.earlierDelivered ?? 0) + (replay?.runner.deliveredEvents ?? 0),
        replayRejectedEvents: (replays?.earlierRejected ?? 0) + (replay?.runner.rejectedEvents ?? 0),
        replay,
      };
    });
  }

  /**
   * Starts re-delivering a range to one sink (module comment). Rejects with
   * ReplayError: unknown sink (404), a replay of that sink still running
   * here (409), Kafka not answering (503), a start outside the log (400,
   * 410); resolves once the replay runner is started (or with 0 records
   * when there is nothing to replay).
   */
  async replay(request: ReplayRequest): Promise<KafkaReplayResult> {
    const names = this.sinkNames();
    // Replays cover the default stream's topic (docs/ROUTING.md).
    const runner = this.runners.find((candidate) => candidate.sink.name === request.sink);
    const replays = this.replays.get(request.sink);
    if (runner === undefined || replays === undefined) {
      const known = names.length === 0 ? "this collector has no sinks" : `known sinks: ${names.join(", ")}`;
      throw new ReplayError("LOGSHIP_REPLAY_UNKNOWN_SINK", `unknown sink ${JSON.stringify(request.sink)}; ${known}`);
    }
    if (!isValidTenant(request.tenant)) throw new ReplayError("LOGSHIP_REPLAY_REQUEST", `${JSON.stringify(request.tenant)} is not a tenant name`);
    // Its files are named by the Kafka positions its own group's runners hold; a replay runner beside them would write ranges those runners also write.
    if (runner.sink.heldFrom !== undefined && runner.sink.holdsWithKafkaLog !== false) throw new ReplayError("LOGSHIP_REPLAY_REQUEST", `sink ${request.sink} cannot be replayed with the Kafka log: its files are named by Kafka offset ranges and hold every event of them already; to archive a range again, archive into a new target`);
    if (this.closed) throw new ReplayError("LOGSHIP_REPLAY_UNAVAILABLE", "the collector is stopping");
    if (replays.starting || replays.latest?.endedMs === null) {
      throw new ReplayError("LOGSHIP_REPLAY_PENDING", `a replay of sink ${request.sink} is still running on this collector (see logship status); ask again once it is done`);
    }
    replays.starting = true;
    try {
      const plan = await this.plan(runner.group, request);
      const records = plan.reduce((sum, entry) => sum + entry.records, 0);
      if (this.closed) throw new ReplayError("LOGSHIP_REPLAY_UNAVAILABLE", "the collector is stopping");
      if (records === 0) return { sink: request.sink, tenant: request.tenant, group: null, partitions: plan, records: 0 };
      const replay = this.startReplay(runner, request.tenant, plan);
      const earlier = replays.latest?.runner.status();
      replays.earlierDelivered += earlier?.deliveredEvents ?? 0;
      replays.earlierRejected += earlier?.rejectedEvents ?? 0;
      replays.latest = replay;
      replays.started++;
      return { sink: request.sink, tenant: request.tenant, group: replay.range.group, partitions: plan, records };
    } finally {
      replays.starting = false;
    }
  }

  /** Lets in-flight sends finish (committing what was delivered), then leaves the groups; running replays end. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.runners, ...this.streamRunners, ...this.replayRunners()].map((runner) => runner.close()));
    await this.closeOffsets();
  }

  /** Aborts in-flight sends; nothing unconfirmed is committed. */
  async destroy(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.runners, ...this.streamRunners, ...this.replayRunners()].map((runner) => runner.destroy()));
    await this.closeOffsets();
  }

  /** What Kafka says about the partitions and the sink group, turned into ranges. */
  private async plan(group: string, request: ReplayRequest): Promise<KafkaReplayPartitionPlan[]> {
    const topic = this.options.topic;
    let partitions: PartitionOffsets[];
    let committed: Map<number, bigint | null>;
    let start: KafkaReplayStart;
    try {
      partitions = await this.offsets.partitions();
      const numbers = partitions.map((entry) => entry.partition);
      committed = await this.offsets.committed(group, numbers);
      start = "timeMs" in request.from ? { atTime: await this.offsets.atTime(request.from.timeMs, numbers) } : request.from;
    } catch (error) {
      if (!(error instanceof KafkaOffsetsError)) throw error;
      throw new ReplayError("LOGSHIP_REPLAY_UNAVAILABLE", `${error.message}; try again when Kafka answers`);
    }
    return planKafkaReplay({ topic, partitions, committed, start });
  }

  private startReplay(runner: KafkaLogRunner, tenant: string, plan: readonly KafkaReplayPartitionPlan[]): Replay {
    const { sinks: _sinks, streams: _streams, subscriptions: _subscriptions, ...shared } = this.options;
    const range = new KafkaReplayRange(replayGroup(runner.sink.name), tenant, plan);
    const replayRunner = new KafkaLogRunner({ ...shared, sink: runner.sink, replay: range });
    const replay: Replay = { range, runner: replayRunner, startedMs: Date.now(), endedMs: null };
    const logger = this.options.logger;
    logger.info("replay started: a runner of its own re-delivers the range to the sink", {
      sink: runner.sink.name,
      tenant,
      group: range.group,
      partitions: range.progress().map((entry) => `${entry.partition}:${entry.fromOffset}-${entry.toOffset}`),
      records: range.remainingRecords(),
    });
    replayRunner.start();
    void replayRunner.finished().then(async () => {
      // Leaving the group is part of the runner's stop; an ended replay's group is deleted (it holds no offsets anyway).
      await replayRunner.close();
      replay.endedMs = Date.now();
      const status = replayRunner.status();
      if (range.done) logger.info("replay done", { sink: runner.sink.name, tenant, group: range.group, delivered_events: status.deliveredEvents, rejected_events: status.rejectedEvents });
      else logger.warn("replay stopped before its end (the collector is stopping); ask for it again to finish it", { sink: runner.sink.name, tenant, group: range.group, remaining_records: range.remainingRecords() });
      if (this.closed) return;
      await this.offsets.deleteGroup(range.group).catch((error: unknown) => logger.warn("could not delete a replay's consumer group; Kafka removes it once it expires", { group: range.group, error: describeKafkaError(error) }));
    });
    return replay;
  }

  private replayRunners(): KafkaLogRunner[] {
    return [...this.replays.values()].flatMap((replays) => (replays.latest === null || replays.latest.endedMs !== null ? [] : [replays.latest.runner]));
  }

  private async closeOffsets(): Promise<void> {
    await this.offsets.close().catch((error: unknown) => this.options.logger.debug("closing the Kafka admin client failed", { error: describeKafkaError(error) }));
    await this.positions.close().catch((error: unknown) => this.options.logger.debug("closing the Kafka admin clients of the metrics failed", { error: describeKafkaError(error) }));
  }
}

function replayStatus(replay: Replay): KafkaReplayStatus {
  const runner = replay.runner.status();
  const state = replay.range.done ? "done" : replay.endedMs === null ? "running" : "stopped";
  return {
    tenant: replay.range.tenant,
    group: replay.range.group,
    state,
    startedMs: replay.startedMs,
    endedMs: replay.endedMs,
    partitions: replay.range.progress(),
    remainingRecords: replay.range.remainingRecords(),
    runner,
  };
}
