/**
 * A process that indexes numbered events into a search index until it is
 * killed, for the crash test of collector/search/block-partition.test.ts:
 * `node index-writer-child.ts DIRECTORY` writes sends of SEND_EVENTS events
 * of three files (id streams) and prints `acked N` once the first N events
 * are committed (SearchIndex.write resolved). Event N is `childEvent(N)`.
 */
import { SearchIndex } from "../search/search-index.ts";
import type { Event } from "../../shared/event.ts";

export const SEND_EVENTS = 700;
const FILES = ["crashfileAAAAAAA", "crashfileBBBBBBB", "crashfileCCCCCCC"];
const START_MS = Date.parse("2026-03-01T10:00:00.000Z");

/** Event n: file n % 3, its (n / 3)th line, 100 bytes a line, one ms apart. */
export function childEvent(n: number): Event {
  const stream = FILES[n % FILES.length] as string;
  const offset = Math.floor(n / FILES.length) * 100;
  const time = new Date(START_MS + n).toISOString();
  return { id: `${stream}${offset.toString(36)}`, time, observed_time: time, host: "crash-host", source: "app", path: `/var/log/${stream}.log`, offset, message: `line ${n} of the crash test`, fields: { n } };
}

if (import.meta.main) {
  const index = new SearchIndex({ directory: process.argv[2] as string });
  for (let next = 0; ; next += SEND_EVENTS) {
    await index.write("default", Array.from({ length: SEND_EVENTS }, (_, k) => childEvent(next + k)));
    process.stdout.write(`acked ${next + SEND_EVENTS}\n`);
  }
}
