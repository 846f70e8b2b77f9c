/**
 * Checkpoint file: `data_dir/checkpoints.json`, format version 1
 * (docs/CHECKPOINTS.md). One entry per file stream:
 *
 *   { "version": 1, "written": "<RFC 3339>", "streams": [ {
 *       "key": stream key (event ids derive from it),
 *       "source": rule name, "path": path when first tailed,
 *       "device": st_dev, "inode": st_ino, "generation": n,
 *       "offset": acknowledged offset (every byte before it is delivered),
 *       "head_bytes": n, "head_hash": sha256 of the first n bytes,
 *       "marker_bytes": m, "marker_hash": sha256 of the m bytes before offset
 *   } ] }
 *
 * Written temp → fsync → rename. A file that does not parse or has another
 * version is an error, never silently ignored (that would re-ship or skip).
 */
import { readFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { LogshipError } from "../../shared/errors.ts";
import { writeFileAtomic } from "../../shared/fs-atomic.ts";

export const CHECKPOINT_VERSION = 1;

export interface CheckpointEntry {
  key: string;
  source: string;
  path: string;
  device: number;
  inode: number;
  generation: number;
  offset: number;
  head_bytes: number;
  head_hash: string;
  marker_bytes: number;
  marker_hash: string;
}

export interface CheckpointStore {
  load(): Promise<CheckpointEntry[]>;
  save(entries: CheckpointEntry[]): Promise<void>;
}

export class FileCheckpointStore implements CheckpointStore {
  readonly path: string;
  private readonly directory: string;

  private readonly onSaved: (entries: CheckpointEntry[]) => void;

  /** `onSaved` runs after each save is durable (the agent's spool forgets what a checkpoint covers). */
  constructor(dataDirectory: string, onSaved: (entries: CheckpointEntry[]) => void = () => {}) {
    this.directory = dataDirectory;
    this.path = join(dataDirectory, "checkpoints.json");
    this.onSaved = onSaved;
  }

  async load(): Promise<CheckpointEntry[]> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new LogshipError("LOGSHIP_CHECKPOINT", `cannot read ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new LogshipError("LOGSHIP_CHECKPOINT", `${this.path} is not valid JSON (${(error as Error).message}); move it away to start over`);
    }
    const { version, streams } = document as { version?: unknown; streams?: unknown };
    if (version !== CHECKPOINT_VERSION || !Array.isArray(streams)) {
      throw new LogshipError("LOGSHIP_CHECKPOINT", `${this.path}: unsupported checkpoint format version ${String(version)} (expected ${CHECKPOINT_VERSION})`);
    }
    return streams as CheckpointEntry[];
  }

  async save(entries: CheckpointEntry[]): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const document = { version: CHECKPOINT_VERSION, written: new Date().toISOString(), streams: entries };
    await writeFileAtomic(this.path, JSON.stringify(document, null, 1) + "\n");
    this.onSaved(entries);
  }
}

/** Dry-run: remembers nothing, writes nothing. */
export class MemoryCheckpointStore implements CheckpointStore {
  entries: CheckpointEntry[] = [];
  async load(): Promise<CheckpointEntry[]> {
    return this.entries;
  }
  async save(entries: CheckpointEntry[]): Promise<void> {
    this.entries = entries;
  }
}
