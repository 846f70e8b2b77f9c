/**
 * The embedded log: one directory per tenant under `data_dir/log/` (and one
 * per tenant's stream with collector routes: the "tenant" of this API is a
 * log name, collector/routing/streams.ts), each a
 * sequence of segment files (format.ts, docs/LOG.md). `open` recovers every
 * tenant's last segment; `append` resolves once the record is fdatasynced
 * (group commit, tenant-log.ts); `read` and `headers` walk records in
 * offset order (`read` seeks through each segment's offset or time index,
 * segment-index.ts). Segments roll by size and by age; retention
 * (retention.ts) deletes whole closed segments by age and size, keeping
 * what consumers still need (`lowestNeededOffset`) unless `maxBytes`
 * forces it. `close` drains; `destroy` drops the files as a crash would.
 */
import { mkdir, open, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../shared/logger.ts";
import { LogError } from "./errors.ts";
import { isValidLogName, streamOfLog } from "../routing/streams.ts";
import { SEGMENT_HEADER_BYTES, type RecordHeader } from "./format.ts";
import { readTenantLog, type LogEntry, type ReadOptions } from "./reader.ts";
import { recoverTenant, type TenantRecovery } from "./recovery.ts";
import { scanSegment } from "./scan.ts";
import { listSegments, readSegmentHeader } from "./segments.ts";
import { applyRetention, type LowestNeededOffset, type RetentionLimits, type SkippedRange } from "./retention.ts";
import { TenantLog, type AppendInput, type Appended, type SyncFunction, type TenantLogStats } from "./tenant-log.ts";
import { tenantLogUsage, type TenantLogUsage } from "./usage.ts";

export interface EmbeddedLogOptions {
  /** `data_dir/log`. */
  directory: string;
  segmentBytes: number;
  /** 0: sync as soon as records are written; N: at most every N ms. */
  fsyncIntervalMs: number;
  logger: Logger;
  /** Default: `file.datasync()`. */
  sync?: SyncFunction;
  nowMs?: () => number;
  /** Read window of recovery and readers. */
  windowBytes?: number;
  /** Roll a segment this old (since creation) at the next append. Default 1 h. */
  segmentAgeMs?: number;
  /** Without it, nothing is ever deleted. */
  retention?: RetentionOptions;
  /** Limits of a stream's logs in place of `retention`'s (a route's `retention:`, docs/ROUTING.md), by stream name. */
  streamRetention?: ReadonlyMap<string, RetentionLimits>;
  /** The lowest offset still needed per tenant (sinks' committed offsets). Default: none registered. */
  lowestNeededOffset?: LowestNeededOffset;
}

export interface RetentionOptions extends RetentionLimits {
  /** How often retention runs (it also runs after every roll). */
  intervalMs: number;
}

/** Retention totals per tenant since open. */
export interface RetentionStats {
  runs: number;
  deletedSegments: number;
  deletedBytes: number;
  /** Ranges deleted before a consumer read them (max_bytes forced it), and their events. */
  skippedRanges: number;
  skippedEvents: number;
}

export const SEGMENT_AGE_MS_DEFAULT = 60 * 60 * 1000;

export interface RecoveryReport {
  tenants: TenantRecovery[];
}

const RECOVERY_WINDOW_BYTES = 4 * 1024 * 1024;
/** Header scans read one small window per record (records are usually larger than this). */
const HEADER_SCAN_WINDOW_BYTES = 4096;

export class EmbeddedLog {
  readonly directory: string;
  /** What recovery found and did, per tenant that existed at open. */
  readonly recovery: RecoveryReport;
  private readonly options: EmbeddedLogOptions;
  private readonly tenantLogs = new Map<string, Promise<TenantLog>>();
  private readonly openTenants = new Map<string, TenantLog>();
  private closed = false;
  private readonly retentionStats = new Map<string, RetentionStats>();
  private retentionTimer: NodeJS.Timeout | null = null;
  /** Retention runs one at a time: a run after a roll waits for the one in progress. */
  private retentionChain: Promise<void> = Promise.resolve();
  /** Told the tenant after each durable append (sink runners wake on it instead of polling). */
  private readonly appendListeners = new Set<(tenant: string) => void>();

  private constructor(options: EmbeddedLogOptions, recovery: RecoveryReport) {
    this.options = options;
    this.directory = options.directory;
    this.recovery = recovery;
  }

  /** Opens the log, recovering each tenant's last segment (torn tails are truncated and reported). */
  static async open(options: EmbeddedLogOptions): Promise<EmbeddedLog> {
    const tenants = await listTenantDirectories(options.directory);
    const log = new EmbeddedLog(options, { tenants: [] });
    for (const tenant of tenants) {
      const opened = log.openTenant(tenant);
      log.tenantLogs.set(tenant, opened);
      await opened;
    }
    const retention = options.retention;
    if (retention !== undefined) {
      log.retentionTimer = setInterval(() => void log.runRetention(), retention.intervalMs);
      log.retentionTimer.unref();
    }
    return log;
  }

  /**
   * Applies retention to every tenant now (also run every
   * `retention.intervalMs` and after each roll). Never rejects: a failure is
   * logged and the next run tries again. Resolves with the ranges consumers
   * lost in this run.
   */
  runRetention(): Promise<SkippedRange[]> {
    const run = this.retentionChain.then(() => this.retainAll());
    this.retentionChain = run.then(() => undefined);
    return run;
  }

  /** Retention totals per tenant since open. */
  retention(): Record<string, RetentionStats> {
    return Object.fromEntries([...this.retentionStats].map(([tenant, stats]) => [tenant, { ...stats }]));
  }

  private async retainAll(): Promise<SkippedRange[]> {
    const limits = this.options.retention;
    const skipped: SkippedRange[] = [];
    if (limits === undefined || this.closed) return skipped;
    for (const [tenant, tenantLog] of this.openTenants) {
      const stats = this.retentionStats.get(tenant) ?? { runs: 0, deletedSegments: 0, deletedBytes: 0, skippedRanges: 0, skippedEvents: 0 };
      this.retentionStats.set(tenant, stats);
      try {
        const result = await applyRetention({
          tenantDirectory: join(this.directory, tenant),
          tenant,
          activeBaseOffset: tenantLog.activeBaseOffset,
          limits: this.options.streamRetention?.get(streamOfLog(tenant)) ?? limits,
          lowestNeededOffset: this.options.lowestNeededOffset?.(tenant),
          nowMs: (this.options.nowMs ?? Date.now)(),
          logger: this.options.logger,
        });
        stats.runs++;
        stats.deletedSegments += result.deletedSegments;
        stats.deletedBytes += result.deletedBytes;
        for (const range of result.skipped) {
          stats.skippedRanges++;
          stats.skippedEvents += range.toOffset - range.fromOffset;
          skipped.push(range);
        }
      } catch (error) {
        this.options.logger.error("log retention failed; it runs again later", { tenant, error: error instanceof Error ? error.message : String(error) });
      }
    }
    return skipped;
  }

  /** Tenants that have a log. */
  tenants(): string[] {
    return [...this.tenantLogs.keys()].sort();
  }

  /** True while the log is open and no tenant's log is failed. */
  get writable(): boolean {
    if (this.closed) return false;
    for (const tenantLog of this.openTenants.values()) if (!tenantLog.healthy) return false;
    return true;
  }

  /** Stores one batch; resolves with its base offset once it is fdatasynced. Rejects with LogError. */
  async append(tenant: string, input: AppendInput): Promise<Appended> {
    if (this.closed) throw new LogError("LOGSHIP_LOG_CLOSED", "the log is closed");
    const tenantLog = await this.tenantLog(tenant);
    const appended = await tenantLog.append(input);
    for (const listener of this.appendListeners) listener(tenant);
    return appended;
  }

  /** Calls `listener(tenant)` after each append is durable (synchronously: keep it cheap). Returns the unsubscribe function. */
  onAppend(listener: (tenant: string) => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /** The offset the next durable record of `tenant` gets (its durable end); 0 for a tenant without a log. */
  endOffset(tenant: string): number {
    return this.openTenants.get(tenant)?.durableEnd.offset ?? 0;
  }

  /** Segments, bytes and oldest offset of `tenant`'s log, and the bytes from each of `fromOffsets` to its end (usage.ts). */
  async usage(tenant: string, fromOffsets: readonly number[] = []): Promise<TenantLogUsage> {
    const opened = this.tenantLogs.get(tenant);
    if (opened === undefined) return { segments: 0, bytes: 0, firstOffset: 0, bytesFrom: fromOffsets.map(() => 0) };
    const tenantLog = await opened;
    return tenantLogUsage({ tenantDirectory: join(this.directory, tenant), end: tenantLog.durableEnd, fromOffsets });
  }

  /** The oldest offset of `tenant` still stored (retention deletes whole segments from the front); the end offset when nothing is. */
  async firstOffset(tenant: string): Promise<number> {
    const { segments } = await listSegments(join(this.directory, tenant));
    return segments[0]?.baseOffset ?? this.endOffset(tenant);
  }

  /** Every record of `tenant` from `options.fromOffset`, up to what is durable now. */
  async *read(tenant: string, options: ReadOptions): AsyncGenerator<LogEntry> {
    const opened = this.tenantLogs.get(tenant);
    if (opened === undefined) return;
    const tenantLog = await opened;
    yield* readTenantLog(this.directory, tenant, { ...options, end: tenantLog.durableEnd });
  }

  /**
   * Record headers of every segment of `tenant`, in offset order, without
   * reading batch bytes or checking CRCs (fast, for start-up); damaged
   * headers are skipped.
   */
  async *headers(tenant: string): AsyncGenerator<RecordHeader> {
    const directory = join(this.directory, tenant);
    const { segments } = await listSegments(directory);
    for (const segment of segments) {
      const file = await open(segment.path, "r");
      try {
        if (typeof (await readSegmentHeader(file, segment)) === "string") continue;
        const { size } = await file.stat();
        const scan = scanSegment(file, {
          start: SEGMENT_HEADER_BYTES,
          end: size,
          mode: "headers",
          expectedOffset: segment.baseOffset,
          keepRecords: false,
          windowBytes: HEADER_SCAN_WINDOW_BYTES,
        });
        for await (const item of scan) if (item.kind === "record") yield item.header;
      } finally {
        await file.close();
      }
    }
  }

  /** Appends, syncs and bytes written per tenant since open. */
  stats(): Record<string, TenantLogStats> {
    const result: Record<string, TenantLogStats> = {};
    for (const [tenant, tenantLog] of this.openTenants) result[tenant] = { ...tenantLog.stats };
    return result;
  }

  /** Lets queued appends finish (they resolve or reject), then closes every file. Appends after this reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retentionTimer !== null) clearInterval(this.retentionTimer);
    await this.retentionChain;
    for (const opened of this.tenantLogs.values()) {
      const tenantLog = await opened.catch(() => null);
      if (tenantLog !== null) await tenantLog.close();
    }
  }

  /**
   * Closes every file at once, without draining appends or syncing indexes
   * (undici's `destroy`): the state a crash leaves. For tests of recovery.
   */
  async destroy(): Promise<void> {
    this.closed = true;
    if (this.retentionTimer !== null) clearInterval(this.retentionTimer);
    await this.retentionChain;
    for (const tenantLog of this.openTenants.values()) await tenantLog.destroy();
  }

  private tenantLog(tenant: string): Promise<TenantLog> {
    if (!isValidLogName(tenant)) return Promise.reject(new LogError("LOGSHIP_LOG_TENANT", `log name ${JSON.stringify(tenant)} is neither a tenant nor <tenant>@<stream>`));
    let opened = this.tenantLogs.get(tenant);
    if (opened === undefined) {
      opened = this.openTenant(tenant);
      this.tenantLogs.set(tenant, opened);
      // A tenant whose directory could not be created is tried again by the next append.
      opened.catch(() => this.tenantLogs.delete(tenant));
    }
    return opened;
  }

  private async openTenant(tenant: string): Promise<TenantLog> {
    const nowMs = this.options.nowMs ?? Date.now;
    let recovered;
    try {
      recovered = await recoverTenant({
        logDirectory: this.directory,
        tenant,
        windowBytes: this.options.windowBytes ?? RECOVERY_WINDOW_BYTES,
        logger: this.options.logger,
        nowMs,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new LogError("LOGSHIP_LOG_UNAVAILABLE", `tenant ${tenant}: cannot open its log: ${message}`, { cause: error });
    }
    this.recovery.tenants.push(recovered.report);
    const tenantLog = new TenantLog(
      {
        tenant,
        directory: join(this.directory, tenant),
        segmentBytes: this.options.segmentBytes,
        segmentAgeMs: this.options.segmentAgeMs ?? SEGMENT_AGE_MS_DEFAULT,
        onRoll: () => void this.runRetention(),
        fsyncIntervalMs: this.options.fsyncIntervalMs,
        sync: this.options.sync ?? ((file) => file.datasync()),
        nowMs,
        logger: this.options.logger,
      },
      recovered.active,
      recovered.nextOffset,
    );
    this.openTenants.set(tenant, tenantLog);
    return tenantLog;
  }
}

/** Tenant directories under `directory` (created if missing). */
async function listTenantDirectories(directory: string): Promise<string[]> {
  let entries;
  try {
    await mkdir(directory, { recursive: true });
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    throw new LogError("LOGSHIP_LOG_OPEN", `cannot use the log directory ${directory}: ${(error as Error).message}`, { cause: error });
  }
  return entries.filter((entry) => entry.isDirectory() && isValidLogName(entry.name)).map((entry) => entry.name).sort();
}
