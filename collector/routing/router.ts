/**
 * Routes compiled once into a function from an event to its stream: the
 * first route whose condition the event matches (the search evaluator,
 * shared/query), else the default stream.
 */
import { compileQuery, parseQuery, type EventPredicate, type MatchableEvent } from "../../shared/query/index.ts";
import type { RoutesConfig } from "./schema.ts";
import { DEFAULT_STREAM } from "./streams.ts";

export type Router = (event: MatchableEvent) => string;

export function compileRoutes(routes: RoutesConfig): Router {
  const compiled: { stream: string; when: EventPredicate | null }[] = routes.map((route) => ({
    stream: route.stream,
    when: route.when === undefined ? null : compileQuery(parseQuery(route.when)),
  }));
  return (event) => {
    for (const route of compiled) if (route.when === null || route.when(event)) return route.stream;
    return DEFAULT_STREAM;
  };
}
