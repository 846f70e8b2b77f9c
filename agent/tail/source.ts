/**
 * A tail rule ready to run: validated config turned into compiled parts.
 */
import type { LineParser } from "../parsers/types.ts";
import type { TransformChain } from "../transforms/chain.ts";
import { MultilineJoiner, type MultilineOptions } from "./multiline.ts";

export interface SourceRuntime {
  name: string;
  /** Absolute globs. */
  paths: string[];
  exclude: string[];
  startAt: "beginning" | "end";
  fields: Readonly<Record<string, unknown>>;
  /** null: parser `none`. */
  parser: LineParser | null;
  multiline: MultilineOptions | null;
  lineBytesMax: number;
  /** null: no `transforms:`. Its step counts live as long as the rule. */
  transforms: TransformChain | null;
  createJoiner(): MultilineJoiner | null;
}

export function sourceRuntime(init: Omit<SourceRuntime, "createJoiner" | "transforms"> & { transforms?: TransformChain | null }): SourceRuntime {
  const multiline = init.multiline;
  return { ...init, transforms: init.transforms ?? null, createJoiner: () => (multiline === null ? null : new MultilineJoiner(multiline)) };
}

export interface TailOptions {
  openFilesMax: number;
  closeInactiveMs: number;
  rescanIntervalMs: number;
  readBytesPerPass: number;
  rotateWaitMs: number;
  checkpointIntervalMs: number;
  fingerprintBytes: number;
  /** How often a changing open file is checked for growth, truncation and deletion. */
  statIntervalMs: number;
  /** A file with no change is checked less and less often, down to once per this (`max_backoff`). */
  statIntervalMaxMs: number;
}
