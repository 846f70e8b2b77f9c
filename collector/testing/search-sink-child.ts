/**
 * A collector's indexing path in a process of its own, for the kill -9 test
 * of collector/sinks/search/holding.test.ts: `node search-sink-child.ts
 * DATA_DIR` opens the embedded log in DATA_DIR/log (written by the test),
 * runs the search sink over DATA_DIR/index behind a real fan-out, and
 * prints `held DELIVERED COMMITTED HELD_FROM` whenever the sink holds
 * events it has not made durable (sends in flight), then `caught-up N` once
 * every offset up to the log's end N is committed. It runs until killed.
 */
import { join } from "node:path";
import { silentLogger } from "../../shared/logger.ts";
import { EmbeddedLog } from "../log/log.ts";
import { SearchIndex } from "../search/search-index.ts";
import { SinkFanout } from "../sinks/fanout.ts";
import { SearchSink } from "../sinks/search/sink.ts";

export const CHILD_EVENTS_PER_SEND = 500;
/** How often the child looks at the runner. */
const WATCH_MS = 1;

if (import.meta.main) {
  const dataDirectory = process.argv[2] as string;
  const sink = new SearchSink(new SearchIndex({ directory: join(dataDirectory, "index") }), { logger: silentLogger });
  const fanout = new SinkFanout({ sinks: [sink], dataDirectory, logger: silentLogger, limits: { eventsPerSendMax: CHILD_EVENTS_PER_SEND, idlePollMs: 20 } });
  const log = await EmbeddedLog.open({ directory: join(dataDirectory, "log"), segmentBytes: 1024 * 1024, fsyncIntervalMs: 0, logger: silentLogger, sync: async () => {}, lowestNeededOffset: (tenant) => fanout.lowestNeededOffset(tenant) });
  await fanout.start(log);
  setInterval(() => {
    const status = fanout.status()[0];
    if (status === undefined) return;
    const heldFrom = sink.heldFrom(status.tenant);
    if (heldFrom !== null) process.stdout.write(`held ${status.deliveredEvents} ${status.committedOffset} ${heldFrom}\n`);
    else if (status.committedOffset === status.endOffset && status.endOffset > 0) process.stdout.write(`caught-up ${status.endOffset}\n`);
  }, WATCH_MS);
}
