/**
 * Test helper: empty search index partitions of format version 3 (a row per
 * event, `sources`), as logship created them before version 4
 * (collector/search/partition-schema.ts). The index writes into such a file
 * as it is, so indexing into it and searching it exercise the version 3
 * paths.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Event } from "../../shared/event.ts";
import { Partition } from "../search/partition.ts";
import { DAY_MS, partitionFileName } from "../search/search-index.ts";

/** Creates an empty version 3 partition in `indexDirectory/tenant` for the day of each event's time. */
export function createVersion3Partitions(indexDirectory: string, tenant: string, events: readonly Event[]): void {
  const tenantDirectory = join(indexDirectory, tenant);
  mkdirSync(tenantDirectory, { recursive: true });
  const days = new Set(events.map((event) => Math.floor(Date.parse(event.time) / DAY_MS) * DAY_MS));
  for (const dayStartMs of days) Partition.open(join(tenantDirectory, partitionFileName(dayStartMs)), true).close();
}
