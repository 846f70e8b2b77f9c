/**
 * The opensearch sink and backend over TLS with basic and bearer auth,
 * against a real secured node (test/engines/opensearch.sh with
 * OPENSEARCH_SECURE=1: OpenSearch 2.11.1 with its security plugin, a
 * throwaway CA, an internal user, an HS256 JWT domain):
 * - `sinks.search` with `tls.ca_file` and `user`/`password` stores a send;
 *   with `token` (a JWT the node verifies) too, and searches through it;
 * - a wrong password, no token, or a CA the client does not trust: the send
 *   is a retry naming the cause, nothing stored.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../shared/logger.ts";
import { parseQuery } from "../../shared/query/index.ts";
import { collectorConfigSchema } from "../../collector/config.ts";
import { OpenSearchClient } from "../../collector/opensearch/client.ts";
import { IndexNames } from "../../collector/opensearch/index-name.ts";
import { OpenSearchBackend } from "../../collector/search/opensearch/backend.ts";
import { openSearchSettings } from "../../collector/sinks/opensearch/config.ts";
import { OpenSearchSink } from "../../collector/sinks/opensearch/sink.ts";
import type { SinkEvent } from "../../collector/sinks/types.ts";
import { startOpenSearch, stopOpenSearch, type SecureOpenSearchNode } from "../engines/opensearch.ts";
import { countDocuments } from "../helpers/opensearch-index.ts";

let node: SecureOpenSearchNode;
let directory = "";
let caFile = "";
let admin: OpenSearchClient;

before(() => {
  node = startOpenSearch({ secure: true });
  directory = mkdtempSync(join(tmpdir(), "logship-opensearch-tls-"));
  caFile = join(directory, "ca.pem");
  writeFileSync(caFile, node.caPem);
  admin = new OpenSearchClient({ url: node.url, caPem: node.caPem, auth: { kind: "basic", user: node.user, password: node.password }, timeoutMs: 30_000, connections: 2 });
});

after(async () => {
  await admin.close();
  rmSync(directory, { recursive: true, force: true });
  stopOpenSearch({ secure: true });
});

/** An HS256 JWT for the node's JWT domain (roles → the admin backend role). */
function jwt(key: Buffer): string {
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${encode({ alg: "HS256", typ: "JWT" })}.${encode({ sub: "logship-sink", roles: ["admin"], exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${unsigned}.${createHmac("sha256", key).update(unsigned).digest("base64url")}`;
}

function events(prefix: string, count: number): SinkEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${prefix}-${index}`,
    time: "2026-11-29T10:00:00.000Z",
    observed_time: "2026-11-29T10:00:00.000Z",
    host: "web-1",
    source: "app",
    path: "/var/log/app.log",
    offset: index * 10,
    message: `${prefix} secure line ${index}`,
    fields: {},
    tenant: "default",
  }));
}

/** A sink built from a `sinks.search` config the way the collector builds it. */
function sinkFrom(search: Record<string, unknown>): OpenSearchSink {
  const config = collectorConfigSchema.parse({ data_dir: directory, sinks: { search: { type: "opensearch", url: node.url, ...search } } });
  const settings = openSearchSettings(config.sinks.search);
  return new OpenSearchSink({ client: new OpenSearchClient(settings.client), names: new IndexNames(settings.indexTemplate), gzip: settings.gzip, bulkBytesMax: settings.bulkBytesMax, bulkEventsMax: settings.bulkEventsMax, template: {}, logger: silentLogger });
}

test("TLS with the cluster's CA (tls.ca_file) and basic auth (user, password): a send is stored", { timeout: 300_000 }, async (t) => {
  const sink = sinkFrom({ index: "itest-basic-{tenant}-%Y.%m.%d", user: node.user, password: node.password, tls: { ca_file: caFile } });
  t.after(() => sink.close());
  assert.deepEqual(await sink.send(events("basic", 50), new AbortController().signal), { kind: "delivered" });
  assert.equal(await countDocuments(admin, "itest-basic-default-*"), 50);
});

test("TLS and bearer auth (token: a JWT the node verifies): a send is stored and searched through the same client", { timeout: 300_000 }, async (t) => {
  const sink = sinkFrom({ index: "itest-bearer-{tenant}-%Y.%m.%d", token: jwt(node.jwtKey), tls: { ca_file: caFile } });
  t.after(() => sink.close());
  assert.deepEqual(await sink.send(events("bearer", 30), new AbortController().signal), { kind: "delivered" });
  assert.equal(await countDocuments(admin, "itest-bearer-default-*"), 30);
  const backend = new OpenSearchBackend({ client: sink.client, names: sink.names });
  const page = await backend.search({ tenant: "default", query: parseQuery('"secure line 7"'), limit: 10 });
  assert.deepEqual(page.events.map((event) => event.id), ["bearer-7"]);
});

test("a wrong password, no credentials, or an untrusted certificate: a retry naming the cause, nothing stored", { timeout: 300_000 }, async (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ user: node.user, password: "wrong", tls: { ca_file: caFile } }, /401/],
    [{ tls: { ca_file: caFile } }, /401/],
    [{ user: node.user, password: node.password }, /certificate|self.signed|unable to verify/i],
  ];
  for (const [search, cause] of cases) {
    const sink = sinkFrom({ index: "itest-refused-{tenant}-%Y.%m.%d", ...search });
    t.after(() => sink.close());
    const outcome = await sink.send(events("refused", 5), new AbortController().signal);
    assert.equal(outcome.kind, "retry");
    assert.match(outcome.kind === "retry" ? (outcome.reason ?? "") : "", cause);
  }
  assert.equal(await countDocuments(admin, "itest-refused-default-*"), 0);
});
