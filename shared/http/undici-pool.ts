/**
 * undici's `Pool` and its `request()`, without the rest of undici.
 *
 * `import { Pool } from "undici"` loads undici's index, which pulls in fetch,
 * WebSocket, EventSource, the cache stores, the mock agent and the proxy
 * agents: about twice the bundled code (and its heap) the agent needs, where
 * only a keep-alive pool and one request method are used. The agent's memory
 * target is tight (docs/BENCHMARKS.md), so it loads the two modules it needs.
 *
 * The paths are undici's internal layout (the package has no exports map,
 * so they resolve), pinned by package-lock.json; collector-client.test.ts
 * sends real requests through this module, so an upgrade that moves them
 * fails the tests, not production.
 */
import type { Dispatcher, Pool } from "undici";
import PoolClass from "undici/lib/dispatcher/pool.js";
import requestMethod from "undici/lib/api/api-request.js";

export type { Pool };

/** A keep-alive pool (undici's Pool; its `request` method is not attached: use `poolRequest`). */
export function createPool(url: string, options: Pool.Options): Pool {
  return new PoolClass(url, options);
}

/** `pool.request(options)` as undici's index would attach it. */
export function poolRequest(pool: Pool, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
  return requestMethod.call(pool, options);
}
