/**
 * Test helpers that read an OpenSearch node directly (never through the
 * code under test's own search path): document counts and ids of an index
 * pattern, after a refresh.
 */
import { OpenSearchClient, type OpenSearchClientOptions } from "../../collector/opensearch/client.ts";

export function testClient(url: string, options: Partial<OpenSearchClientOptions> = {}): OpenSearchClient {
  return new OpenSearchClient({ url, timeoutMs: 60_000, connections: 2, ...options });
}

/** `_count` of the pattern after a refresh (0 when no index matches). */
export async function countDocuments(client: OpenSearchClient, pattern: string): Promise<number> {
  await client.expect("POST", `/${pattern}/_refresh?ignore_unavailable=true&allow_no_indices=true`);
  const response = await client.expect("GET", `/${pattern}/_count?ignore_unavailable=true&allow_no_indices=true`);
  return (response.body as { count: number }).count;
}

/** Every document id of the pattern (scrolls through search_after on id). */
export async function documentIds(client: OpenSearchClient, pattern: string): Promise<string[]> {
  await client.expect("POST", `/${pattern}/_refresh?ignore_unavailable=true&allow_no_indices=true`);
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
