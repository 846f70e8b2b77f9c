import { test } from "node:test";
import assert from "node:assert/strict";
import { TokenTable } from "./auth.ts";

const tokens = new TokenTable([
  { token: "ingest-1", tenant: "default", role: "ingest" },
  { token: "search-1", tenant: "default", role: "search" },
  { token: "admin-1", tenant: "ops", role: "admin" },
]);

test("a known token with an allowed role gives its tenant", () => {
  assert.deepEqual(tokens.authorize("Bearer ingest-1", ["ingest", "admin"]), { tenant: "default", role: "ingest" });
  assert.deepEqual(tokens.authorize("bearer   admin-1", ["ingest", "admin"]), { tenant: "ops", role: "admin" });
});

test("missing, malformed and unknown tokens are 401; a wrong role is 403", () => {
  assert.throws(() => tokens.authorize(undefined, ["ingest"]), { code: "LOGSHIP_AUTH_MISSING", status: 401 });
  assert.throws(() => tokens.authorize("Basic aW5nZXN0LTE=", ["ingest"]), { code: "LOGSHIP_AUTH_MISSING", status: 401 });
  assert.throws(() => tokens.authorize("Bearer ingest-", ["ingest"]), { code: "LOGSHIP_AUTH_INVALID", status: 401 });
  assert.throws(() => tokens.authorize("Bearer ingest-1x", ["ingest"]), { code: "LOGSHIP_AUTH_INVALID", status: 401 });
  assert.throws(() => tokens.authorize("Bearer search-1", ["ingest", "admin"]), { code: "LOGSHIP_AUTH_FORBIDDEN", status: 403 });
});

test("with no tokens configured, requests act as tenant default", () => {
  assert.deepEqual(new TokenTable([]).authorize(undefined, ["ingest"]), { tenant: "default", role: "admin" });
});
