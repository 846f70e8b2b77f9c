/**
 * What a `_bulk` answer says about each item (OpenSearch answers 200 with
 * `errors: true` and a status per item when some failed):
 *
 *   2xx, 409     done: stored, or already there (`create` of an existing _id)
 *   429          retriable, and OpenSearch is overloaded: the whole sink slows down
 *   5xx          retriable (a shard not available, a node left)
 *   other 4xx    refused for good (mapper_parsing_exception: a field of the
 *                wrong type; illegal_argument_exception): dead-lettered with
 *                OpenSearch's type and reason
 */

export type ItemVerdict = { kind: "done" } | { kind: "retry"; throttled: boolean; reason: string } | { kind: "reject"; reason: string };

interface BulkItem {
  status?: unknown;
  error?: unknown;
}

/** One verdict per item of the request, in order; throws when the answer does not have that many items. */
export function judgeBulkItems(body: unknown, expected: number): ItemVerdict[] {
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items) || items.length !== expected) {
    throw new Error(`the _bulk answer has ${Array.isArray(items) ? items.length : "no"} items for ${expected} actions`);
  }
  return items.map((wrapper: unknown) => judgeItem(Object.values(wrapper as Record<string, BulkItem>)[0] ?? {}));
}

function judgeItem(item: BulkItem): ItemVerdict {
  const status = typeof item.status === "number" ? item.status : 0;
  if ((status >= 200 && status < 300) || status === 409) return { kind: "done" };
  const reason = `${status} ${describeItemError(item.error)}`;
  if (status === 429) return { kind: "retry", throttled: true, reason };
  if (status >= 500 || status === 0) return { kind: "retry", throttled: false, reason };
  return { kind: "reject", reason };
}

/** `type: reason (caused by: type: reason)`, as OpenSearch nests them. */
function describeItemError(error: unknown): string {
  if (typeof error !== "object" || error === null) return String(error);
  const { type, reason, caused_by: causedBy } = error as { type?: unknown; reason?: unknown; caused_by?: unknown };
  const cause = typeof causedBy === "object" && causedBy !== null ? ` (caused by: ${describeItemError(causedBy)})` : "";
  return `${String(type)}: ${String(reason)}${cause}`;
}
