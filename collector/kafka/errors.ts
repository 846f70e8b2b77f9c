/**
 * What a failed Kafka request means for logship, decided in one place for
 * the log backend (collector/log/kafka/) and the kafka sink
 * (collector/sinks/kafka/).
 *
 * @platformatic/kafka reports failures as trees: MultipleErrors (one per
 * try, or one per broker) around ResponseErrors around ProtocolErrors that
 * carry the broker's error name (`apiId`, e.g. MESSAGE_TOO_LARGE). Only two
 * kinds are permanent for the records in hand:
 *
 *   too-large: MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE. The record (or the
 *     request's record batch) is over the topic's `max.message.bytes`;
 *     sending the same bytes again can never work.
 *   invalid:   INVALID_RECORD. The broker refused the records themselves
 *     (they break a rule of the topic, e.g. a compacted topic needs keys).
 *
 * Everything else is `unavailable`: brokers down or unreachable, timeouts,
 * leader changes, not enough in-sync replicas, a missing topic, missing
 * authorisation. Those are fixed by time or by an operator, never by
 * dropping data, so callers answer "retry later".
 *
 * `brokerSaidRetry` picks, among those, the failures where a broker did
 * answer and called its error passing (a coordinator still loading, a
 * leader moving, replicas catching up): worth another try at once, as no
 * time went into waiting for an answer.
 */
import { findErrorBy } from "@platformatic/kafka";

export type KafkaFailureKind = "too-large" | "invalid" | "unavailable";

const TOO_LARGE = ["MESSAGE_TOO_LARGE", "RECORD_LIST_TOO_LARGE"];
const INVALID = ["INVALID_RECORD"];

export function kafkaFailureKind(error: unknown): KafkaFailureKind {
  if (!(error instanceof Error)) return "unavailable";
  if (TOO_LARGE.some((name) => findErrorBy(error, "apiId", name) !== null)) return "too-large";
  if (INVALID.some((name) => findErrorBy(error, "apiId", name) !== null)) return "invalid";
  return "unavailable";
}

export function brokerSaidRetry(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // A TimeoutError carries the network code too: neither a timeout nor a dead connection is a broker's answer.
  if (findErrorBy(error, "code", "PLT_KFK_NETWORK") !== null) return false;
  const answer = findErrorBy(error, "code", "PLT_KFK_PROTOCOL") as { canRetry?: unknown } | null;
  return answer?.canRetry === true;
}

/** Leaf messages at most, so one line stays readable when every try failed the same way. */
const REASONS_MAX = 4;

/**
 * One line for logs and status: the outer message, then the distinct
 * leaf causes (`NOT_LEADER_OR_FOLLOWER: …`, `Cannot connect to any broker.`).
 */
export function describeKafkaError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const reasons: string[] = [];
  collectLeaves(error, reasons);
  const distinct = [...new Set(reasons)].filter((reason) => reason !== error.message);
  if (distinct.length === 0) return error.message;
  const shown = distinct.slice(0, REASONS_MAX).join("; ");
  return `${error.message} (${shown}${distinct.length > REASONS_MAX ? `; ${distinct.length - REASONS_MAX} more` : ""})`;
}

function collectLeaves(error: unknown, into: string[]): void {
  const nested = error instanceof AggregateError ? (error.errors as unknown[]) : [];
  if (nested.length === 0) {
    into.push(leafText(error));
    return;
  }
  for (const inner of nested) collectLeaves(inner, into);
}

function leafText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const apiId = (error as { apiId?: unknown }).apiId;
  const server = (error as { serverErrorMessage?: unknown }).serverErrorMessage;
  const detail = typeof server === "string" && server !== "" ? ` (${server})` : "";
  return typeof apiId === "string" ? `${apiId}: ${error.message}${detail}` : error.message;
}
