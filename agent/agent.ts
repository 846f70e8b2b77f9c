/**
 * The agent: tailer → batcher → spool → shipper → collectors, and the
 * acknowledgements back: a collector's 200 for a batch acknowledges its
 * blocks, which lets their files' checkpoints move.
 *
 * After a restart the spool still holds the batches no collector
 * acknowledged; they are sent again with their original sequence numbers
 * (the collector deduplicates), and the tailer resumes each file after the
 * spooled lines instead of reading them again — and after lines acknowledged
 * before the checkpoint caught up (the spool's delivered ends; re-reading
 * those would ship them again under new seqs).
 *
 * SIGHUP (reload.ts, docs/RELOAD.md): `reload` applies new tail rules to
 * the running tailer; every other setting keeps its value until a restart.
 *
 * SIGTERM: stop reading, spool what is in memory, give in-flight sends until
 * the deadline, write the checkpoint and the spool state, exit. What was not
 * delivered stays in the spool for the next start.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../shared/logger.ts";
import type { AgentConfig } from "./config.ts";
import { agentHost, buildSource, buildSources, buildTailOptions } from "./build.ts";
import { diffSources, keysNeedingRestart, type Reloadable, type ReloadResult } from "./reload.ts";
import type { SourceRuntime } from "./tail/source.ts";
import { FileCheckpointStore } from "./tail/checkpoint.ts";
import { Tailer, type StreamStatus } from "./tail/tailer.ts";
import { Spool, type SpoolRecord, type SpoolStats } from "./spool/spool.ts";
import { Batcher } from "./ship/batcher.ts";
import { Shipper, type CollectorStatus } from "./ship/shipper.ts";
import { ConfigError } from "../shared/errors.ts";
import { AgentMetrics, type ReadTotals } from "./metrics.ts";
import { OptimizingCompilers, type OptimizingCompilersState } from "./optimizing-compilers.ts";

export interface AgentStatus {
  host: string;
  agent_id: string;
  files: StreamStatus[];
  spool: SpoolStats;
  collectors: CollectorStatus[];
  batches: { delivered: number; duplicates: number; retries: number; rejected: number; backlog: number };
  compression: { uncompressed_bytes: number; compressed_bytes: number };
  memory: { rss_bytes: number; heap_total_bytes: number; heap_used_bytes: number; external_bytes: number; array_buffers_bytes: number };
  /** V8's optimizing compilers: deferred until load, on, or not deferred (optimizing-compilers.ts). */
  runtime: { optimizing_compilers: OptimizingCompilersState };
  /** What each source's transform steps did since the rule was (re)built (docs/TRANSFORMS.md). */
  transforms: TransformStatus[];
}

export interface TransformStatus {
  source: string;
  /** `<index>_<kind>`, e.g. `0_drop`. */
  step: string;
  dropped_events: number;
  redactions: number;
  redacted_events: number;
  parse_failures: number;
}

export interface AgentOptions {
  config: AgentConfig;
  configFile: string;
  logger: Logger;
  /** How long SIGTERM waits for in-flight batches before leaving them in the spool. */
  shutdownDeadlineMs: number;
  /** V8 flags to set once the agent reads fast (packaging/role-options.ts, `roleFlagsUnderLoad`); none: the compilers run as Node started them. */
  flagsUnderLoad?: readonly string[];
}

export class Agent implements Reloadable {
  private readonly options: AgentOptions;
  /** The config in effect: the start's, with `sources` from the last reload. */
  private config: AgentConfig;
  /** The tail rules the tailer runs, in config order. */
  private sourceRuntimes: SourceRuntime[] = [];
  private readonly logger: Logger;
  readonly spool: Spool;
  /** Served at GET /metrics (api.ts); docs/METRICS.md. */
  readonly metrics: AgentMetrics;
  private shipper: Shipper | null = null;
  private tailer: Tailer | null = null;
  /** Resolves once the tailer exists: a reload asked for while the agent starts waits for it. */
  private readonly tailerStarted: Promise<Tailer>;
  private tailerCreated: (tailer: Tailer) => void = () => {};
  private batcher: Batcher | null = null;
  private readonly compilers: OptimizingCompilers;
  /** Block acknowledgements of batches spooled by this process, by seq. */
  private readonly blockAcks = new Map<number, (() => void)[]>();
  /** Batches found in the spool at start: how many still hold each stream. */
  private readonly restoredByKey = new Map<string, number>();
  private readonly restoredSeqs = new Set<number>();

  constructor(options: AgentOptions) {
    const config = options.config;
    if (config.collectors.length === 0) throw new ConfigError(`${options.configFile}: collectors: at least one collector URL is needed to ship (or use --dry-run)`);
    this.options = options;
    this.config = config;
    this.tailerStarted = new Promise((resolve) => (this.tailerCreated = resolve));
    this.logger = options.logger;
    const spoolBytesMax = config.spool.max_bytes;
    this.spool = new Spool({
      directory: join(config.data_dir, "spool"),
      bytesMax: spoolBytesMax,
      batchesMax: config.spool.max_batches,
      whenFull: config.spool.when_full,
      segmentBytes: Math.max(1 << 20, Math.min(64 << 20, Math.floor(spoolBytesMax / 8))),
      // Enough for the batches queued to go out next; the rest are read back from disk (the page cache, mostly).
      cacheBytesMax: 1 << 20,
      logger: options.logger.child({ component: "spool" }),
    });
    this.metrics = new AgentMetrics({ status: () => this.status(), reads: () => this.readTotals() });
    this.compilers = new OptimizingCompilers({ flags: options.flagsUnderLoad ?? [], bytesRead: () => this.tailer?.bytesRead ?? 0, logger: options.logger });
  }

  async run(signal: AbortSignal): Promise<void> {
    const config = this.config;
    const restored = await this.spool.open();
    const spooledEnds = new Map<string, number>(this.spool.deliveredEnds());
    const deliveredEnds = new Map<string, number>(this.spool.deliveredEnds());
    for (const record of restored) {
      this.restoredSeqs.add(record.seq);
      for (const range of record.ranges) {
        spooledEnds.set(range.key, Math.max(spooledEnds.get(range.key) ?? 0, range.endOffset));
        this.restoredByKey.set(range.key, (this.restoredByKey.get(range.key) ?? 0) + 1);
      }
    }
    if (restored.length > 0) this.logger.info("resending batches left in the spool", { batches: restored.length });
    this.spool.onDropped = (record) => this.acknowledge(record);
    const shipper = new Shipper({
      collectors: config.collectors,
      client: {
        token: config.token,
        connectTimeoutMs: config.delivery.connect_timeout,
        requestTimeoutMs: config.delivery.request_timeout,
        tls: await loadTls(config),
      },
      inFlightMax: config.delivery.max_in_flight,
      retryBaseMs: config.delivery.retry_initial,
      retryCapMs: config.delivery.retry_max,
      failuresToEject: config.delivery.failures_to_eject,
      spool: this.spool,
      deadLetterDirectory: join(config.data_dir, "dead-letter"),
      logger: this.logger.child({ component: "shipper" }),
      onDelivered: (record) => this.acknowledge(record),
      observer: this.metrics,
    });
    this.shipper = shipper;
    for (const record of restored) shipper.enqueue(record);
    const host = agentHost(config);
    const batcher = new Batcher({
      bytesMax: config.batch.max_bytes,
      eventsMax: config.batch.max_events,
      lingerMs: config.batch.linger,
      compression: config.compression,
      compressionsMax: 2,
      host,
      spool: this.spool,
      onSpooled: (record, acks) => {
        this.metrics.batchSpooled(record.events, record.bodyBytes);
        this.compilers.observe();
        this.blockAcks.set(record.seq, acks);
        shipper.enqueue(record);
      },
    });
    this.batcher = batcher;
    this.sourceRuntimes = buildSources(config, this.options.configFile);
    const tailer = new Tailer({
      sources: this.sourceRuntimes,
      tail: buildTailOptions(config),
      host,
      output: batcher,
      // Each durable checkpoint lets the spool forget the delivered ends it covers.
      checkpoints: new FileCheckpointStore(config.data_dir, (entries) => this.spool.checkpointed(entries)),
      logger: this.logger.child({ component: "tailer" }),
      fromBeginning: false,
      once: false,
      watch: true,
      spooled: spooledEnds,
      delivered: deliveredEnds,
    });
    this.tailer = tailer;
    this.tailerCreated(tailer);
    const shipping = new AbortController();
    const shipperDone = shipper.run(shipping.signal);
    this.compilers.start();
    const stateTimer = setInterval(() => {
      this.spool.saveState().catch((error: unknown) => this.logger.error("cannot write spool state", { error: (error as Error).message }));
    }, config.tail.checkpoint_interval);
    try {
      await tailer.run(signal);
      // Stopped reading: spool what is in memory, then give in-flight batches until the deadline.
      await batcher.drain();
      const deadline = Date.now() + this.options.shutdownDeadlineMs;
      if (!(await shipper.drained(deadline))) {
        this.logger.warn("shutdown deadline reached; undelivered batches stay in the spool", { batches: shipper.backlog });
      }
    } finally {
      clearInterval(stateTimer);
      this.compilers.stop();
      shipping.abort();
      await shipperDone;
      await shipper.close();
      await tailer.close();
      await this.spool.close();
    }
  }

  /**
   * Apply `next`'s tail rules to the running tailer (unchanged rules keep
   * their compiled parts). Other settings keep their values; the result
   * names the ones that changed. Throws ConfigError (a parser that does not
   * compile) before anything changes.
   */
  async reload(next: AgentConfig): Promise<ReloadResult> {
    const tailer = this.tailer ?? (await this.tailerStarted);
    const current = this.config;
    const changes = diffSources(current.sources, next.sources);
    const unchanged = new Set(changes.unchanged);
    const running = new Map(this.sourceRuntimes.map((runtime) => [runtime.name, runtime]));
    const runtimes = next.sources.map((source, index) => {
      const kept = unchanged.has(source.name) ? running.get(source.name) : undefined;
      return kept ?? buildSource(source, index, this.options.configFile);
    });
    await tailer.reload(runtimes);
    this.sourceRuntimes = runtimes;
    this.config = { ...current, sources: next.sources };
    this.metrics.reloaded("applied");
    return { ...changes, restartKeys: keysNeedingRestart(current, next) };
  }

  /** A new config was rejected (it did not load): counted. */
  reloadRejected(): void {
    this.metrics.reloaded("rejected");
  }

  /** A batch is delivered (or rejected for good, or dropped): free it and acknowledge its blocks. */
  private acknowledge(record: SpoolRecord): void {
    for (const ack of this.blockAcks.get(record.seq) ?? []) ack();
    this.blockAcks.delete(record.seq);
    if (this.restoredSeqs.delete(record.seq)) {
      for (const range of record.ranges) {
        const left = (this.restoredByKey.get(range.key) ?? 1) - 1;
        if (left > 0) this.restoredByKey.set(range.key, left);
        else {
          this.restoredByKey.delete(range.key);
          this.tailer?.ackSpooled(range.key);
        }
      }
    }
    this.spool.ack(record.seq).catch((error: unknown) => this.logger.error("cannot reclaim spool space", { error: (error as Error).message }));
  }

  /** Lines and bytes read from files since start. */
  readTotals(): ReadTotals {
    return { lines: this.tailer?.linesRead ?? 0, bytes: this.tailer?.bytesRead ?? 0, polls: this.tailer?.filePolls ?? 0 };
  }

  status(): AgentStatus {
    const shipper = this.shipper;
    return {
      host: agentHost(this.config),
      agent_id: this.spool.agentId,
      files: this.tailer?.status() ?? [],
      spool: this.spool.stats(),
      collectors: shipper?.collectors() ?? [],
      batches: {
        delivered: shipper?.delivered ?? 0,
        duplicates: shipper?.duplicates ?? 0,
        retries: shipper?.retries ?? 0,
        rejected: shipper?.rejected ?? 0,
        backlog: shipper?.backlog ?? 0,
      },
      compression: { uncompressed_bytes: this.batcher?.uncompressedBytes ?? 0, compressed_bytes: this.batcher?.compressedBytes ?? 0 },
      memory: memoryStatus(),
      runtime: { optimizing_compilers: this.compilers.state },
      transforms: transformStatus(this.sourceRuntimes),
    };
  }
}

function transformStatus(runtimes: readonly SourceRuntime[]): TransformStatus[] {
  return runtimes.flatMap((runtime) =>
    (runtime.transforms?.counts ?? []).map((counts) => ({
      source: runtime.name,
      step: counts.step,
      dropped_events: counts.dropped,
      redactions: counts.redactions,
      redacted_events: counts.redactedEvents,
      parse_failures: counts.parseFailures,
    })),
  );
}

function memoryStatus(): AgentStatus["memory"] {
  const usage = process.memoryUsage();
  return { rss_bytes: usage.rss, heap_total_bytes: usage.heapTotal, heap_used_bytes: usage.heapUsed, external_bytes: usage.external, array_buffers_bytes: usage.arrayBuffers };
}


async function loadTls(config: AgentConfig): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined> {
  const tls = config.tls;
  if (tls === undefined) return undefined;
  const read = async (path: string | undefined, what: string): Promise<Buffer | undefined> => {
    if (path === undefined) return undefined;
    try {
      return await readFile(path);
    } catch (error) {
      throw new ConfigError(`tls.${what}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  const ca = await read(tls.ca, "ca");
  const cert = await read(tls.cert, "cert");
  const key = await read(tls.key, "key");
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}
