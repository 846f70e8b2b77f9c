/**
 * The collector's `routes:` (docs/ROUTING.md): a list of `{stream, when}`
 * checked in order, the first whose condition matches an event names its
 * stream; events no route takes go to the default stream. Checked purely
 * here (conditions parse, streams are names, a route without `when` is
 * last), so a mistake is a config error at its line:column.
 */
import { z } from "zod";
import { conditionSchema } from "../../agent/transforms/schema.ts";
import { durationSchema, sizeSchema } from "../../shared/config/units.ts";
import { DEFAULT_STREAM, STREAM_NAME_PATTERN } from "./streams.ts";

/** Routes at most: each stream is a log directory per tenant and a sink runner per subscribed sink. */
export const ROUTES_MAX = 64;

export const streamNameSchema = z
  .string()
  .regex(STREAM_NAME_PATTERN, { error: 'a stream name is 1–64 letters, digits, "_" or "-"' })
  .describe(`A stream: a log of its own per tenant ("${DEFAULT_STREAM}" is the tenant's log without routes).`);

export const routeSchema = z.strictObject({
  stream: streamNameSchema,
  when: z.exactOptional(conditionSchema).describe("Condition in the query language; absent: every event that reaches this route (only the last route may omit it)."),
  retention: z
    .exactOptional(
      z.strictObject({
        max_age: z.exactOptional(durationSchema).describe("This stream's log keeps segments this long (default: log.retention.max_age)."),
        max_bytes: z.exactOptional(sizeSchema).describe("This stream's log keeps this many bytes per tenant (default: log.retention.max_bytes)."),
      }),
    )
    .describe("Embedded log only: this stream's retention, in place of log.retention's."),
});

export const routesSchema = z
  .array(routeSchema)
  .max(ROUTES_MAX, { error: `at most ${ROUTES_MAX} routes` })
  .superRefine((routes, ctx) => {
    const retentionOf = new Map<string, number>();
    for (const [index, route] of routes.entries()) {
      if (route.when === undefined && index !== routes.length - 1) {
        ctx.addIssue({ code: "custom", path: [index], message: "a route without when takes every event, so it must be the last one (the routes after it could never match)", input: route });
      }
      if (route.retention === undefined) continue;
      const earlier = retentionOf.get(route.stream);
      if (earlier !== undefined) {
        ctx.addIssue({ code: "custom", path: [index, "retention"], message: `stream ${route.stream} has its retention at routes[${earlier}] already; give it once`, input: route.retention });
      }
      retentionOf.set(route.stream, index);
    }
  })
  .describe("Conditions → streams, first match wins; events no route takes go to the default stream (docs/ROUTING.md).");

export type RouteConfig = z.output<typeof routeSchema>;
export type RoutesConfig = z.output<typeof routesSchema>;

/** Every stream the routes can produce, the default first (it takes what no route does). */
export function routedStreams(routes: RoutesConfig): string[] {
  const streams = [DEFAULT_STREAM];
  for (const route of routes) if (!streams.includes(route.stream)) streams.push(route.stream);
  return streams;
}
