/**
 * prom-client's Registry, Counter, Gauge, Histogram and default process
 * metrics, without the rest of prom-client.
 *
 * `import ... from "prom-client"` loads its index, which also loads the
 * cluster aggregator (node:cluster, and with it node:dgram and
 * node:child_process) and the Pushgateway client (node:https, hence
 * node:tls and OpenSSL's set-up). Neither is used here; in the agent,
 * whose memory target is tight (docs/ARCHITECTURE.md, Node runtime options
 * per role), they were megabytes of RSS for nothing. So the modules used
 * are loaded by their paths.
 *
 * The paths are prom-client's internal layout (the package has no exports
 * map, so they resolve), pinned by package-lock.json; the metrics tests
 * (shared/metrics.test.ts, agent/metrics.test.ts) scrape real registries
 * through this module, so an upgrade that moves them fails the tests.
 */
import RegistryClass from "prom-client/lib/registry.js";
import CounterClass from "prom-client/lib/counter.js";
import GaugeClass from "prom-client/lib/gauge.js";
import HistogramClass from "prom-client/lib/histogram.js";
import collectDefaultMetricsFunction from "prom-client/lib/defaultMetrics.js";

import type { Counter as CounterType, Gauge as GaugeType, Histogram as HistogramType, Registry as RegistryType } from "prom-client";

export type { Metric } from "prom-client";

export const Registry = RegistryClass;
export type Registry = RegistryType;
export const Counter = CounterClass;
export type Counter<Label extends string = string> = CounterType<Label>;
export const Gauge = GaugeClass;
export type Gauge<Label extends string = string> = GaugeType<Label>;
export const Histogram = HistogramClass;
export type Histogram<Label extends string = string> = HistogramType<Label>;
export const collectDefaultMetrics = collectDefaultMetricsFunction;
