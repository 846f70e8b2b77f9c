/**
 * The query table: queries and the ids of the fixture events
 * (fixture-events.ts) each must match. The evaluator's test (match.test.ts)
 * and every search backend's test (collector/search/search.test.ts) run it,
 * so the backends are held to the evaluator's meaning (docs/QUERY.md).
 */
import { FIXTURE_EVENTS } from "./fixture-events.ts";

const ALL_IDS = FIXTURE_EVENTS.map((event) => event.id);

/** Every fixture id except these. */
function allBut(...ids: string[]): string[] {
  return ALL_IDS.filter((id) => !ids.includes(id));
}

/** [query, ids of the fixture events it matches, in fixture order]. */
export const QUERY_TABLE: Array<[string, string[]]> = [
  // the collector stream (docs/ROUTING.md): events without one are in "default"
  ["stream:payments", ["e07", "e15"]],
  ["stream:pay*", ["e07", "e15"]],
  ["-stream:payments", allBut("e07", "e15")],
  ["stream:default AND source:checkout", ALL_IDS.filter((id) => id !== "e15" && FIXTURE_EVENTS.find((event) => event.id === id)?.source === "checkout")],
  ["stream:payments AND reset", ["e07"]],
  // full text on message: tokens, case-insensitive
  ["timeout", ["e05", "e08", "e11"]],
  ["TIMEOUT", ["e05", "e08", "e11"]],
  ["message:timeout", ["e05", "e08", "e11"]],
  ["healthz", ["e01"]],
  ["1500", ["e09"]],
  ["café", ["e12"]],
  ["CAFÉ", ["e12"]],
  ["cafe", []],
  ["日本語のログ", ["e13"]],
  ["メッセージ", ["e13"]],
  ["\\AND", ["e20"]],
  ["top_up", ["e15"]],
  ["db-1", ["e05"]],
  ["error-code", ["e20"]],
  ['"---"', []],
  // phrases: consecutive tokens
  ['"connection reset"', ["e07"]],
  ['"reset connection"', []],
  ['"naïve résumé"', ["e12"]],
  ['"or not"', ["e20"]],
  ['"code error"', []],
  // prefix and wildcards on message tokens
  ["time*", ["e05", "e08", "e11", "e20"]],
  ["upstream*", ["e04", "e05", "e19"]],
  ["1500*", ["e05", "e09"]],
  ["日本*", ["e13"]],
  ["conn*ion", ["e07", "e08"]],
  ["t?meout", ["e05", "e08", "e11"]],
  ["key=user*", ["e17"]],
  // boolean operators, implicit AND, precedence NOT > AND > OR
  ["connection reset", ["e07"]],
  ["connection timeout", ["e08"]],
  ["connection AND timeout", ["e08"]],
  ["connection OR timeout", ["e05", "e07", "e08", "e11"]],
  ["connection -timeout", ["e07"]],
  ["connection AND NOT timeout", ["e07"]],
  ["NOT connection", allBut("e07", "e08")],
  ["NOT NOT reset", ["e07"]],
  ["timeout OR connection reset", ["e05", "e07", "e08", "e11"]],
  ["(timeout OR connection) reset", ["e07"]],
  ["NOT timeout OR reset", allBut("e05", "e08", "e11")],
  ["NOT (timeout OR reset)", allBut("e05", "e07", "e08", "e11")],
  ["host:api-1 AND level:info OR host:db-1 AND level:fatal", ["e06", "e10"]],
  ["source:nginx status:200", ["e01"]],
  ["fields.service:web AND NOT host:web-1", ["e03", "e04", "e18"]],
  ["host:db-1 OR db-1", ["e05", "e09", "e10"]],
  // keyword fields: exact and case-sensitive
  ["host:web-1", ["e01", "e02", "e14", "e15", "e20"]],
  ["host:WEB-1", []],
  ["host:web", []],
  ["host:web-*", ["e01", "e02", "e03", "e04", "e14", "e15", "e16", "e18", "e20"]],
  ["host:web-?", ["e01", "e02", "e03", "e04", "e14", "e15", "e16", "e18", "e20"]],
  ["host:*-1", ["e01", "e02", "e05", "e06", "e09", "e10", "e11", "e12", "e13", "e14", "e15", "e17", "e19", "e20"]],
  ["level:error", ["e05", "e11"]],
  ["level:ERROR", ["e07"]],
  ["level:(error OR fatal)", ["e05", "e10", "e11"]],
  ["event:top_up", ["e15"]],
  ["source:checkout AND fields.event:(purchase OR top_up)", ["e14", "e15"]],
  ["user:alice OR user:bob", ["e10", "e14"]],
  ["locale:*-JP", ["e13"]],
  ["id:e07", ["e07"]],
  ["id:e1?", ["e10", "e11", "e12", "e13", "e14", "e15", "e16", "e17", "e18", "e19"]],
  ["truncated:true", ["e18"]],
  // fields.x, nested objects, a flat dotted key, arrays
  ["fields.path:\"/healthz\"", ["e01"]],
  ['path:"/healthz"', []],
  ['path:"/var/log/checkout.log"', ["e14", "e15", "e16"]],
  ["path:\\/var/log/app/*", ["e05", "e06", "e07", "e08", "e17", "e20"]],
  ["http.status:200", ["e06"]],
  ["fields.http.method:GET", ["e05", "e06"]],
  ["fields.http.status:>=500", ["e05", "e19"]],
  ["tags:billing", ["e11"]],
  ["tags:bill*", ["e11"]],
  // numbers: numeric comparison for numbers and numeric strings
  ["status:>=500", ["e02", "e04"]],
  ["status:<400", ["e01"]],
  ["status:[400 TO 499]", ["e03"]],
  ["status:[404 TO 500}", ["e03"]],
  ["status:{404 TO 500]", ["e02"]],
  ["status:[500 TO *]", ["e02", "e04"]],
  ["status:(>=500 OR 404)", ["e02", "e03", "e04"]],
  ["status:503", ["e04"]],
  ["status:500.0", ["e02"]],
  ['status:"500"', ["e02"]],
  ['status:"500.0"', []],
  ["duration_ms:>1000", ["e05", "e08"]],
  ["amount:19.99", ["e14", "e16"]],
  ["amount:5", ["e15"]],
  ["offset:0", ["e01", "e03", "e05", "e07", "e11", "e14", "e16", "e19"]],
  ["offset:>=1048576", ["e18"]],
  ["job_id:[40 TO 45]", ["e11"]],
  // times: RFC 3339 instants, offsets, dates
  ["time:>=2026-11-29T10:00:00Z", allBut("e01", "e09", "e10")],
  ["time:[2026-11-29 TO 2026-11-30}", allBut("e09", "e20")],
  ["time:<2026-11-29T00:00:00+00:00", ["e09"]],
  ["time:{2026-11-29T11:00:00+01:00 TO 2026-11-29T10:05:01Z]", ["e03", "e04", "e05", "e06"]],
  ["time:2026-11-29T10:00:00Z", ["e02"]],
  ["observed_time:<2026-11-29T00:00:00Z", ["e09"]],
  // regexes: unanchored, case-sensitive, over the whole value
  ["/timeout \\d+ms/", ["e05"]],
  ["/(?i:timeout) \\d+ms/", ["e05", "e11"]],
  ["/^[A-Z]/", ["e07", "e10", "e11", "e12", "e20"]],
  ["path:/nginx/", ["e01", "e02", "e03", "e04", "e18"]],
  ["host:/^(api|db)-/", ["e05", "e06", "e07", "e08", "e09", "e10", "e17"]],
  // existence and negation of missing fields
  ["level:*", ["e05", "e06", "e07", "e08", "e09", "e10", "e11", "e12", "e13", "e17"]],
  ["-level:*", ["e01", "e02", "e03", "e04", "e14", "e15", "e16", "e18", "e19", "e20"]],
  ["NOT level:info", allBut("e06", "e09", "e12", "e13")],
  ["level:* AND NOT level:info", ["e05", "e07", "e08", "e10", "e11", "e17"]],
  ["-user:*", allBut("e10", "e14", "e15")],
  ["-truncated:*", allBut("e18")],
  ["NOT status:>=500", allBut("e02", "e04")],
  ["status:[* TO *]", ["e01", "e02", "e03", "e04"]],
  // everything
  ["", ALL_IDS],
  ["*", ALL_IDS],
  ["message:*", ALL_IDS],
];
