import { test } from "node:test";
import assert from "node:assert/strict";
import { collectorConfigSchema } from "../config.ts";
import { IndexNames, indexTemplateProblem, INDEX_TEMPLATE_DEFAULT } from "./index-name.ts";

test("index names: tenant lowercased, the UTC day of the event time; the tenant's pattern and the template's", () => {
  const names = new IndexNames(INDEX_TEMPLATE_DEFAULT);
  assert.equal(names.indexFor("Payments", Date.parse("2026-11-29T23:59:59.999Z")), "logship-payments-2026.11.29");
  assert.equal(names.indexFor("default", Date.parse("2026-11-30T00:00:00.000Z")), "logship-default-2026.11.30");
  assert.equal(names.tenantPattern("Payments"), "logship-payments-*");
  assert.equal(names.allPattern(), "logship-*-*");
  assert.equal(new IndexNames("logs-%Y%m%d-{tenant}").tenantPattern("a"), "logs-*-a");
});

test("index templates that cannot name indices are refused, purely, with the reason; the config says where", () => {
  assert.equal(indexTemplateProblem("logship-{tenant}-%Y.%m.%d"), undefined);
  assert.match(indexTemplateProblem("Logship-{tenant}") ?? "", /lowercase/);
  assert.match(indexTemplateProblem("logship-%Y") ?? "", /needs \{tenant\}/);
  assert.match(indexTemplateProblem("logship-{tenant}-%q") ?? "", /only \{tenant\}, %Y, %m and %d/);
  assert.match(indexTemplateProblem("_logship-{tenant}") ?? "", /cannot start/);
  const refused = collectorConfigSchema.safeParse({ sinks: { search: { type: "opensearch", url: "http://127.0.0.1:9200", index: "logs", user: "u" } } });
  assert.equal(refused.success, false);
  const messages = refused.error?.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`) ?? [];
  assert.ok(messages.some((message) => message.startsWith("sinks.search.index: an index template needs {tenant}")), messages.join("\n"));
  assert.ok(messages.includes("sinks.search.password: user needs password"), messages.join("\n"));
  const embeddedWithAuth = collectorConfigSchema.safeParse({ sinks: { search: { type: "embedded", token: "t" } } });
  assert.match(JSON.stringify(embeddedWithAuth.error?.issues), /token is only allowed with type \\"opensearch\\"/);
});
