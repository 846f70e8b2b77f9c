/**
 * The collector's search API as the page calls it (docs/SEARCH.md, "HTTP
 * API"): same origin, the token as `Authorization: Bearer`, JSON answers.
 * A refusal becomes an ApiError with the collector's status, code, reason
 * and, for a query that does not parse, its column; a request that never
 * got an answer has status 0.
 */
import type { Event } from "../../../shared/event.ts";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** 1-based column of a query error (LOGSHIP_QUERY). */
  readonly column: number | undefined;

  constructor(status: number, code: string, message: string, column?: number) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.column = column;
  }
}

export interface SearchPage {
  events: Event[];
  cursor: string | null;
  partial: boolean;
}

export interface Histogram {
  bucket_ms: number;
  buckets: { time: string; count: number }[];
  complete: boolean;
  counted_since?: string;
  partial: boolean;
}

export interface Facets {
  events: number;
  complete: boolean;
  facets: { field: string; events: number; values: { value: string; count: number }[]; other: number }[];
  partial: boolean;
}

export interface EventContext {
  event: Event;
  before: Event[];
  after: Event[];
}

export type Parameters = Record<string, string | undefined>;

export class Api {
  private readonly token: string;

  constructor(token: string) {
    this.token = token;
  }

  search(parameters: Parameters, signal?: AbortSignal): Promise<SearchPage> {
    return this.get("/v1/search", parameters, signal);
  }

  histogram(parameters: Parameters, signal?: AbortSignal): Promise<Histogram> {
    return this.get("/v1/histogram", parameters, signal);
  }

  facets(parameters: Parameters, signal?: AbortSignal): Promise<Facets> {
    return this.get("/v1/facets", parameters, signal);
  }

  context(id: string, lines: number, signal?: AbortSignal): Promise<EventContext> {
    return this.get("/v1/context", { id, before: String(lines), after: String(lines) }, signal);
  }

  /** Opens `GET /v1/tail` (tail.ts reads the stream); a refusal throws ApiError. */
  async openTail(query: string, lastEventId: string | undefined, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const headers: Record<string, string> = { ...this.headers(), accept: "text/event-stream" };
    if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
    const response = await this.fetch(`/v1/tail?${new URLSearchParams({ q: query })}`, headers, signal);
    if (response.body === null) throw new ApiError(0, "LOGSHIP_UI_NETWORK", "the collector answered the live tail without a stream");
    return response.body;
  }

  private async get<T>(path: string, parameters: Parameters, signal: AbortSignal | undefined): Promise<T> {
    const defined = Object.entries(parameters).filter((entry): entry is [string, string] => entry[1] !== undefined);
    const response = await this.fetch(`${path}?${new URLSearchParams(defined)}`, this.headers(), signal);
    return (await response.json()) as T;
  }

  private headers(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  /** The answer when it is 200; ApiError otherwise. An abort is rethrown as it is. */
  private async fetch(url: string, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, { headers, ...(signal === undefined ? {} : { signal }) });
    } catch (error) {
      if (signal?.aborted === true) throw error;
      throw new ApiError(0, "LOGSHIP_UI_NETWORK", `the collector did not answer (${error instanceof Error ? error.message : String(error)})`);
    }
    if (response.ok) return response;
    let body: { error?: unknown; code?: unknown; column?: unknown } = {};
    try {
      body = (await response.json()) as typeof body;
    } catch (error) {
      if (signal?.aborted === true) throw error;
      body = { error: `${response.status} ${response.statusText}` };
    }
    const message = typeof body.error === "string" ? body.error : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, typeof body.code === "string" ? body.code : "LOGSHIP_UI_HTTP", message, typeof body.column === "number" ? body.column : undefined);
  }
}

/** What a person should read for a refused token (sign-in, or a token that stopped working). */
export function tokenProblem(error: ApiError): string {
  if (error.status === 401) return "This collector does not know that token. Check it and sign in again.";
  if (error.status === 403) return `This token cannot search: ${error.message}. Use a token of role search or admin.`;
  return error.message;
}
