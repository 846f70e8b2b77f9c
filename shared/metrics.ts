/**
 * Prometheus metrics plumbing shared by the agent (agent/metrics.ts) and
 * the collector (collector/metrics.ts); docs/METRICS.md lists every metric.
 *
 * One prom-client Registry per process part (an agent, a collector), never
 * the library's global default registry: `logship up` runs an agent and a
 * collector in one process, and tests run several collectors in one, and
 * each must expose only its own series.
 *
 * Hot-path rule: counters and histograms are touched at most once per
 * batch (or per read, per fsync round, per request), never per line or
 * event. Anything that a status() already knows (gauges, totals kept by
 * the component itself) is read at scrape time in a `collect()` callback.
 *
 * The default process metrics (collectDefaultMetrics) are computed at
 * scrape time too, except two that run in the background for the life of
 * the process: the event-loop delay monitor (perf_hooks
 * monitorEventLoopDelay, sampled natively by libuv at
 * EVENT_LOOP_PRECISION_MS) and a PerformanceObserver of GC entries (one
 * histogram observe per garbage collection). Neither touches the batch path.
 * They describe the process, so they are made once per process and the same
 * metric objects are registered in every registry: an agent and a collector
 * in one process (or many collectors in a test) do not each start monitors.
 */
import type { ServerResponse } from "node:http";
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from "./prom-client.ts";

/** Resolution of the event-loop delay monitor of the default metrics (prom-client's default is 10 ms). */
const EVENT_LOOP_PRECISION_MS = 20;

/** The default process metrics, made on first use (see the module comment). */
let processMetrics: Registry | null = null;

/** A fresh registry with the default process metrics (`process_*`, `nodejs_*`). */
export function createMetricsRegistry(): Registry {
  if (processMetrics === null) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics, eventLoopMonitoringPrecision: EVENT_LOOP_PRECISION_MS });
  }
  const registry = new Registry();
  // getMetricsAsArray is typed as the metrics' JSON shape, but holds the metric objects themselves.
  for (const metric of processMetrics.getMetricsAsArray()) registry.registerMetric(metric as unknown as Metric);
  return registry;
}

/**
 * Counters whose totals are kept elsewhere (by the component, read at
 * scrape time): replaces every series of `counter` with `totals`. Only for
 * totals that never go down while the process runs, as counters must not.
 */
export function setCounterTotals<Label extends string>(counter: Counter<Label>, totals: Iterable<[Partial<Record<Label, string>>, number]>): void {
  counter.reset();
  for (const [labels, total] of totals) counter.inc(labels, total);
}

/** Series and values of a metric read at scrape time. */
export type ScrapedValues<Label extends string> = Iterable<[Partial<Record<Label, string>>, number]>;

/** A counter whose totals another component keeps, read at each scrape (setCounterTotals). */
export function scrapedCounter<Label extends string>(registry: Registry, name: string, help: string, labelNames: Label[], totals: () => ScrapedValues<Label>): void {
  new Counter<Label>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      setCounterTotals(this, totals());
    },
  });
}

/** A gauge whose values are read at each scrape (every series replaced). */
export function scrapedGauge<Label extends string>(registry: Registry, name: string, help: string, labelNames: Label[], values: () => ScrapedValues<Label> | Promise<ScrapedValues<Label>>): void {
  new Gauge<Label>({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      const rows = await values();
      this.reset();
      for (const [labels, value] of rows) this.set(labels, value);
    },
  });
}

/** Answers a scrape in the Prometheus text format. */
export async function sendMetrics(registry: Registry, response: ServerResponse): Promise<void> {
  let text: string;
  try {
    text = await registry.metrics();
  } catch (error) {
    const message = `cannot collect metrics: ${error instanceof Error ? error.message : String(error)}\n`;
    response.writeHead(500, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(message) });
    response.end(message);
    return;
  }
  response.writeHead(200, { "Content-Type": registry.contentType, "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}
