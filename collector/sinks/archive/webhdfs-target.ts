/**
 * The `webhdfs://namenode:port/path` target (target.ts): archive files in
 * HDFS through its WebHDFS REST API (webhdfs-client.ts; `swebhdfs://` is the
 * same over HTTPS).
 *
 * A format writes the in-progress file to a local staging directory (the
 * formats stream into a file handle, and an HTTP upload held open for a
 * file's whole age would tie a DataNode's write pipeline to every open
 * file). At the roll the finished file is uploaded under its hidden
 * in-progress name (CREATE, NameNode then DataNode), the local copy deleted,
 * and the file renamed to its committed name (RENAME: atomic in the
 * NameNode, which logs it before answering, so there is no directory to
 * sync). A RENAME that answers false is checked: if the destination is there
 * and the source gone, an earlier attempt whose answer was lost did it.
 *
 * The staging directory holds only open files: it is emptied when the
 * target opens (what a crashed process left is read from the log again).
 * Listing walks the directories with LISTSTATUS, LIST_CONCURRENCY at a time.
 */
import { createReadStream } from "node:fs";
import { mkdir, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { assert } from "../../../shared/errors.ts";
import { Semaphore } from "../../ingest/semaphore.ts";
import type { ArchiveTarget, ListedFile } from "./target.ts";
import { WebHdfsClient } from "./webhdfs-client.ts";
import { WebHdfsError } from "./webhdfs-errors.ts";

export interface WebHdfsTargetOptions {
  /** webhdfs://namenode[:port]/path or swebhdfs://…; the port defaults to HDFS's 9870 (9871 for swebhdfs). */
  url: string;
  /** A local directory for the files being written; emptied at open. */
  stagingDirectory: string;
  /** `user.name` for simple authentication. */
  user?: string | undefined;
  /** Each WebHDFS request at most this long (connect, headers, body). */
  timeoutMs: number;
}

/** LISTSTATUS calls in flight at once while listing the target. */
const LIST_CONCURRENCY = 8;
const WEBHDFS_PORT_DEFAULT = 9870;
const SWEBHDFS_PORT_DEFAULT = 9871;

export class WebHdfsTarget implements ArchiveTarget {
  readonly root: string;
  private readonly rootPath: string;
  private readonly stagingDirectory: string;
  private readonly client: WebHdfsClient;

  private constructor(options: WebHdfsTargetOptions) {
    const url = new URL(options.url);
    assert(url.protocol === "webhdfs:" || url.protocol === "swebhdfs:", "the config validated the target's scheme");
    const secure = url.protocol === "swebhdfs:";
    const port = url.port === "" ? (secure ? SWEBHDFS_PORT_DEFAULT : WEBHDFS_PORT_DEFAULT) : Number(url.port);
    this.root = options.url;
    this.rootPath = decodeURIComponent(url.pathname).replace(/\/+$/, "");
    this.stagingDirectory = options.stagingDirectory;
    this.client = new WebHdfsClient({ namenodeUrl: `${secure ? "https" : "http"}://${url.hostname}:${port}`, user: options.user, timeoutMs: options.timeoutMs });
  }

  /** Empties the staging directory (leftovers of a crash) and returns the target; no request is made yet. */
  static async open(options: WebHdfsTargetOptions): Promise<WebHdfsTarget> {
    await rm(options.stagingDirectory, { recursive: true, force: true });
    await mkdir(options.stagingDirectory, { recursive: true });
    return new WebHdfsTarget(options);
  }

  writePath(directory: string, name: string): string {
    return join(this.stagingDirectory, ...directory.split("/"), name);
  }

  /** The local staging directory; HDFS creates the partition's directories with the file. */
  async ensureDirectory(directory: string): Promise<void> {
    await mkdir(join(this.stagingDirectory, ...directory.split("/")), { recursive: true });
  }

  async publish(directory: string, name: string): Promise<void> {
    const local = this.writePath(directory, name);
    const { size } = await stat(local);
    await this.client.create(this.hdfsPath(directory, name), () => createReadStream(local), size);
    await unlink(local);
  }

  async rename(directory: string, from: string, to: string): Promise<void> {
    const source = this.hdfsPath(directory, from);
    const destination = this.hdfsPath(directory, to);
    if (await this.client.rename(source, destination)) return;
    const [sourceStatus, destinationStatus] = await Promise.all([this.client.fileStatus(source), this.client.fileStatus(destination)]);
    if (sourceStatus === null && destinationStatus !== null) return; // an earlier attempt renamed it; its answer was lost
    throw new WebHdfsError("WEBHDFS_RENAME", `RENAME ${source} to ${destination} answered false (source ${sourceStatus === null ? "missing" : "present"}, destination ${destinationStatus === null ? "missing" : "present"})`);
  }

  /** The NameNode made the rename durable (its edit log) before it answered. */
  async syncDirectory(): Promise<void> {}

  async remove(directory: string, name: string): Promise<void> {
    await rm(this.writePath(directory, name), { force: true });
    await this.client.delete(this.hdfsPath(directory, name));
  }

  async list(directory?: string): Promise<ListedFile[]> {
    if (directory !== undefined) return this.listDirectory(directory, []);
    const files: ListedFile[] = [];
    const permits = new Semaphore(LIST_CONCURRENCY);
    const walk = async (current: string): Promise<void> => {
      const subdirectories: string[] = [];
      const release = await permits.acquire();
      try {
        files.push(...(await this.listDirectory(current, subdirectories)));
      } finally {
        release();
      }
      await Promise.all(subdirectories.map(walk));
    };
    await walk("");
    return files;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** The files directly in `directory`; its subdirectories are pushed onto `subdirectories`. */
  private async listDirectory(directory: string, subdirectories: string[]): Promise<ListedFile[]> {
    const statuses = await this.client.listStatus(this.hdfsPath(directory, ""));
    if (statuses === null) return [];
    const files: ListedFile[] = [];
    for (const status of statuses) {
      if (status.type === "DIRECTORY") subdirectories.push(directory === "" ? status.pathSuffix : `${directory}/${status.pathSuffix}`);
      else if (status.type === "FILE") files.push({ directory, name: status.pathSuffix });
    }
    return files;
  }

  private hdfsPath(directory: string, name: string): string {
    const parts = [this.rootPath, ...(directory === "" ? [] : [directory]), ...(name === "" ? [] : [name])];
    return parts.join("/") || "/";
  }
}
