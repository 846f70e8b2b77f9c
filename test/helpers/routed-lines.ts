/**
 * The workload of the routing acceptance tests (test/e2e/routes.test.ts,
 * test/integration/kafka-routes.itest.ts): numbered logfmt lines with a
 * level and an event kind, an agent source that drops debug lines and
 * redacts e-mail addresses, and a collector with transforms of its own and
 * three routes. `expectedStream` says where each line must end.
 */

const KINDS = ["purchase", "refund", "top_up", "login", "view", "search"];

/** What line `seq` says: a level and an event kind. */
export function lineAttributes(seq: number): { level: string; event: string } {
  return { level: seq % 9 === 0 ? "debug" : seq % 4 === 0 ? "error" : "info", event: KINDS[seq % KINDS.length] as string };
}

/** Line `seq`, logfmt: the parser makes level, event and user fields; the whole line stays the message. */
export function orderLine(seq: number): string {
  const { level, event } = lineAttributes(seq);
  return `file=orders seq=${seq} level=${level} event=${event} user=user${seq}@example.com\n`;
}

/** The line number of an event of orderLine. */
export function orderSeq(message: string): number {
  return Number(/^file=orders seq=(\d+) /.exec(message)?.[1] ?? Number.NaN);
}

/** Where line `seq` must end: null when the agent or the collector drops it, else the first route that matches it. */
export function expectedStream(seq: number): string | null {
  const { level, event } = lineAttributes(seq);
  if (level === "debug") return null; // agent: drop level:debug
  if (event === "search") return null; // collector: drop fields.event:search
  if (event === "purchase" || event === "top_up") return "payments";
  if (level === "error") return "errors";
  if (event === "login") return "audit";
  return "default";
}

/** Line numbers below `lines` by the stream they must end in. */
export function expectedStreams(lines: number): Map<string, number[]> {
  const expected = new Map<string, number[]>();
  for (let seq = 0; seq < lines; seq++) {
    const stream = expectedStream(seq);
    if (stream !== null) expected.set(stream, [...(expected.get(stream) ?? []), seq]);
  }
  return expected;
}

/** Appended to the agent's source (agentSetup): the parser and the agent's transforms. */
export const AGENT_SOURCE_YAML = `    parser: { type: logfmt }
    transforms:
      - drop: 'level:debug'
      - redact: { patterns: [email], fields: [message, fields.user] }
`;

/** The collector's transforms and routes (top level); `retention` only with the embedded log. */
export function collectorRoutesYaml(options: { auditRetention: boolean }): string {
  const retention = options.auditRetention ? ", retention: { max_age: 30d }" : "";
  return `transforms:
  - drop: 'fields.event:search'
  - set: { fields.collector: '{host}' }
routes:
  - { stream: payments, when: 'fields.event:(purchase OR top_up)' }
  - { stream: errors, when: 'level:error' }
  - { stream: audit, when: 'fields.event:login'${retention} }
`;
}
