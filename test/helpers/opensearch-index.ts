/**
 * Test helpers that read an OpenSearch node directly (never through the
 * code under test's own search path): document counts and ids of an index
 * pattern, after a refresh.
 */
import { OpenSearchClient, OpenSearchError, type OpenSearchClientOptions } from "../../collector/opensearch/client.ts";

export function testClient(url: string, options: Partial<OpenSearchClientOptions> = {}): OpenSearchClient {
  return new OpenSearchClient({ url, timeoutMs: 60_000, connections: 2, ...options });
}

/**
 * `_count` of the pattern after a refresh (0 when no index matches). An
 * index the sink is creating, or one a restarted node is recovering, answers
 * 503 "all shards failed" until its primary shard has started: see
 * `whenReadable`.
 */
export async function countDocuments(client: OpenSearchClient, pattern: string): Promise<number> {
  return whenReadable(client, pattern, async () => {
    const response = await client.expect("GET", `/${pattern}/_count?ignore_unavailable=true&allow_no_indices=true`);
    return (response.body as { count: number }).count;
  });
}

/** How long `whenReadable` tries again after 503s before it lets the last one fail the test. */
const READABLE_WITHIN_MS = 120_000;
const READABLE_RETRY_MS = 500;

/**
 * Runs `read` once every primary shard of the pattern's indices has started
 * and they are refreshed. The health wait alone leaves a race: when no index
 * matches yet it answers at once, and the sink can create one before `read`
 * reaches it, so a 503 from `read` waits for health again and tries again,
 * for up to two minutes.
 */
async function whenReadable<T>(client: OpenSearchClient, pattern: string, read: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + READABLE_WITHIN_MS;
  for (;;) {
    try {
      // 408 after 50 s, within the test client's 60 s.
      await client.expect("GET", `/_cluster/health/${pattern}?wait_for_status=yellow&timeout=50s`);
      await client.expect("POST", `/${pattern}/_refresh?ignore_unavailable=true&allow_no_indices=true`);
      return await read();
    } catch (error) {
      if (!(error instanceof OpenSearchError && error.status === 503) || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, READABLE_RETRY_MS));
    }
  }
}

/** Every document id of the pattern (scrolls through search_after on id), once readable as for countDocuments. */
export async function documentIds(client: OpenSearchClient, pattern: string): Promise<string[]> {
  return whenReadable(client, pattern, async () => {
    const ids: string[] = [];
    let after: unknown[] | undefined;
    for (;;) {
      const body = { size: 10_000, sort: [{ id: "asc" }], _source: false, docvalue_fields: ["id"], ...(after === undefined ? {} : { search_after: after }) };
      const response = await client.expect("POST", `/${pattern}/_search?ignore_unavailable=true&allow_no_indices=true`, { body });
      const hits = (response.body as { hits: { hits: { _id: string; sort: unknown[] }[] } }).hits.hits;
      if (hits.length === 0) return ids;
      for (const hit of hits) ids.push(hit._id);
      after = hits.at(-1)?.sort;
    }
  });
}

/** Deletes every index of the pattern. */
export async function deleteIndices(client: OpenSearchClient, pattern: string): Promise<void> {
  await client.expect("DELETE", `/${pattern}?ignore_unavailable=true&allow_no_indices=true&expand_wildcards=all`);
}

/** Deletes the index templates the tests' sinks put (`logship-itest-*`): a node kept running between runs may hold older ones whose patterns overlap. */
export async function deleteTestTemplates(client: OpenSearchClient): Promise<void> {
  await client.expect("DELETE", "/_index_template/logship-itest-*", { accepted: [404] });
}
