/**
 * The collector's processing config as the decode workers get it
 * (`workerData`), compiled once per worker, and what each processed batch
 * reports back: its stream parts and what each transform step did to it
 * (collector/metrics.ts adds these up).
 */
import { compileTransforms, type TransformChain } from "../../agent/transforms/chain.ts";
import type { TransformsConfig } from "../../agent/transforms/schema.ts";
import type { BatchSummary } from "../../shared/wire/batch.ts";
import { compileRoutes } from "./router.ts";
import type { RoutesConfig } from "./schema.ts";
import { splitBatch, type StreamPart } from "./split.ts";

/** Top-level `transforms:` and `routes:` of a collector config; both empty: no processing (the fast path). */
export interface ProcessingConfig {
  transforms: TransformsConfig;
  routes: RoutesConfig;
}

export function hasProcessing(config: ProcessingConfig): boolean {
  return config.transforms.length > 0 || config.routes.length > 0;
}

/** What one step did to one batch (`<index>_<kind>`, as the agent names steps). */
export interface StepCounts {
  step: string;
  dropped: number;
  redactions: number;
  redactedEvents: number;
  parseFailures: number;
}

export interface ProcessedBatch {
  parts: StreamPart[];
  /** Events the transforms dropped. */
  dropped: number;
  /** One entry per step, in order (empty without transforms). */
  steps: StepCounts[];
}

/** A worker's compiled transforms and routes. */
export class BatchProcessor {
  private readonly chain: TransformChain | null;
  private readonly router: ReturnType<typeof compileRoutes>;

  constructor(config: ProcessingConfig) {
    this.chain = compileTransforms(config.transforms);
    this.router = compileRoutes(config.routes);
  }

  /** Transforms and routes one validated payload; the step counts are this batch's alone. */
  process(payload: Buffer, summary: BatchSummary, nowMs: number): ProcessedBatch {
    const result = splitBatch(payload, summary, { chain: this.chain, router: this.router }, nowMs);
    const steps: StepCounts[] = [];
    for (const counts of this.chain?.counts ?? []) {
      steps.push({ step: counts.step, dropped: counts.dropped, redactions: counts.redactions, redactedEvents: counts.redactedEvents, parseFailures: counts.parseFailures });
      counts.dropped = counts.redactions = counts.redactedEvents = counts.parseFailures = 0;
    }
    return { parts: result.parts, dropped: result.dropped, steps };
  }
}
