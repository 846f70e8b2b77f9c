/**
 * Test helpers that read an OpenSearch node directly (never through the
 * code under test's own search path): document counts and ids of an index
 * pattern, after a refresh.
 */
import { OpenSearchClient, type OpenSearchClientOptions } from "../../collector/opensearch/client.ts";

export function testClient(url: string, options: Partial<OpenSearchClientOptions> = {}): OpenSearchClient {
  return new OpenSearchClient({ url, timeoutMs: 60_000, connections: 2, ...options });
}

/**
 * `_count` of the pattern after a refresh (0 when no index matches). Waits
 * first (up to 50 s) for the pattern's primary shards: an index the sink is
 * creating, or one a restarted node is recovering, answers 503 "all shards
 * failed" until its shard has started.
 */
export async function countDocuments(client: OpenSearchClient, pattern: string): Promise<number> {
  await readable(client, pattern);
  const response = await client.expect("GET", `/${pattern}/_count?ignore_unavailable=true&allow_no_indices=true`);
  return (response.body as { count: number }).count;
}

/** Waits until every primary shard of the pattern's indices has started (at once when none matches; 408 after 50 s, within the test client's 60 s), then refreshes them. */
async function readable(client: OpenSearchClient, pattern: string): Promise<void> {
  await client.expect("GET", `/_cluster/health/${pattern}?wait_for_status=yellow&timeout=50s`);
  await client.expect("POST", `/${pattern}/_refresh?ignore_unavailable=true&allow_no_indices=true`);
}

/** Every document id of the pattern (scrolls through search_after on id), once readable as for countDocuments. */
export async function documentIds(client: OpenSearchClient, pattern: string): Promise<string[]> {
  await readable(client, pattern);
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
}

/** Deletes every index of the pattern. */
export async function deleteIndices(client: OpenSearchClient, pattern: string): Promise<void> {
  await client.expect("DELETE", `/${pattern}?ignore_unavailable=true&allow_no_indices=true&expand_wildcards=all`);
}

/** Deletes the index templates the tests' sinks put (`logship-itest-*`): a node kept running between runs may hold older ones whose patterns overlap. */
export async function deleteTestTemplates(client: OpenSearchClient): Promise<void> {
  await client.expect("DELETE", "/_index_template/logship-itest-*", { accepted: [404] });
}
