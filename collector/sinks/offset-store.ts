/**
 * A sink runner's committed offset, one small JSON file per (sink, tenant):
 * `data_dir/sinks/<sink>/<tenant>.offset.json`, replaced atomically (temp →
 * fsync → rename → fsync directory, shared/fs-atomic.ts).
 *
 * Format, version 1:
 *
 *   {"version": 1, "sink": "search", "tenant": "default", "offset": 1234, "committed_ms": 1764000000000}
 *
 * `offset` is the first log offset the sink has not confirmed: every event
 * below it was delivered (or dead-lettered). A missing file means 0.
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { LogshipError } from "../../shared/errors.ts";
import { writeFileAtomic } from "../../shared/fs-atomic.ts";

export const OFFSET_FILE_VERSION = 1;

export class SinkStateError extends LogshipError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("LOGSHIP_SINK_STATE", message, options);
    this.name = "SinkStateError";
  }
}

export interface OffsetFile {
  version: number;
  sink: string;
  tenant: string;
  offset: number;
  committed_ms: number;
}

export class OffsetStore {
  readonly path: string;
  private readonly directory: string;
  private readonly sink: string;
  private readonly tenant: string;

  constructor(options: { dataDirectory: string; sink: string; tenant: string }) {
    this.directory = join(options.dataDirectory, "sinks", options.sink);
    this.path = join(this.directory, `${options.tenant}.offset.json`);
    this.sink = options.sink;
    this.tenant = options.tenant;
  }

  /** The committed offset; 0 when nothing was committed yet. Throws SinkStateError on an unreadable file (never guess: a wrong offset loses or repeats data). */
  async load(): Promise<number> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
      throw new SinkStateError(`cannot read ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    let parsed: Partial<OffsetFile>;
    try {
      parsed = JSON.parse(text) as Partial<OffsetFile>;
    } catch (error) {
      throw new SinkStateError(`${this.path} is not valid JSON`, { cause: error });
    }
    if (parsed.version !== OFFSET_FILE_VERSION) throw new SinkStateError(`${this.path}: unsupported version ${String(parsed.version)}`);
    if (!Number.isSafeInteger(parsed.offset) || (parsed.offset as number) < 0) throw new SinkStateError(`${this.path}: offset is not a whole number`);
    return parsed.offset as number;
  }

  async commit(offset: number, nowMs: number): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const state: OffsetFile = { version: OFFSET_FILE_VERSION, sink: this.sink, tenant: this.tenant, offset, committed_ms: nowMs };
    await writeFileAtomic(this.path, JSON.stringify(state) + "\n");
  }
}
