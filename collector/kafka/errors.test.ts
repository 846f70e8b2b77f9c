/**
 * Failure classification on the error trees @platformatic/kafka builds
 * (MultipleErrors → ResponseError → ProtocolError), made with its own
 * classes: only a record over the size limit and an invalid record are
 * permanent; everything else is "try again later".
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MultipleErrors, NetworkError, ProtocolError, ResponseError, TimeoutError, UserError } from "@platformatic/kafka";
import { brokerSaidRetry, describeKafkaError, kafkaFailureKind } from "./errors.ts";

const PRODUCE_API = 0;

/** What the producer rejects with when a broker answered a produce with `code`. */
function produceFailure(code: number, serverMessage: string | null = null): MultipleErrors {
  return new MultipleErrors("Producing messages failed.", [new ResponseError(PRODUCE_API, 11, { "/responses/0/partitions/0": [code, serverMessage] }, {})]);
}

test("MESSAGE_TOO_LARGE and RECORD_LIST_TOO_LARGE are too-large, however deeply nested", () => {
  assert.equal(kafkaFailureKind(produceFailure(10)), "too-large");
  assert.equal(kafkaFailureKind(produceFailure(18)), "too-large");
  assert.equal(kafkaFailureKind(new MultipleErrors("produce failed 3 times.", [new NetworkError("closed"), produceFailure(10)])), "too-large");
  assert.equal(kafkaFailureKind(new ProtocolError("MESSAGE_TOO_LARGE")), "too-large");
});

test("INVALID_RECORD is invalid", () => {
  assert.equal(kafkaFailureKind(produceFailure(87, "Compacted topic cannot accept message without key")), "invalid");
});

test("brokers down, timeouts, leader changes, missing replicas, a missing topic and anything unknown are unavailable", () => {
  assert.equal(kafkaFailureKind(new MultipleErrors("initProducerId failed 3 times.", [new MultipleErrors("Cannot connect to any broker.", [new NetworkError("connect ECONNREFUSED 127.0.0.1:9")])])), "unavailable");
  assert.equal(kafkaFailureKind(new TimeoutError("Request timed out")), "unavailable");
  assert.equal(kafkaFailureKind(produceFailure(6)), "unavailable"); // NOT_LEADER_OR_FOLLOWER
  assert.equal(kafkaFailureKind(produceFailure(19)), "unavailable"); // NOT_ENOUGH_REPLICAS
  assert.equal(kafkaFailureKind(produceFailure(29)), "unavailable"); // TOPIC_AUTHORIZATION_FAILED: an operator fixes it; data is not at fault
  assert.equal(kafkaFailureKind(new UserError("Unknown topic logship.")), "unavailable");
  assert.equal(kafkaFailureKind(new Error("socket hang up")), "unavailable");
  assert.equal(kafkaFailureKind("not even an error"), "unavailable");
});

test("the description names the outer failure and its distinct causes, with the broker's error names", () => {
  const repeated = new MultipleErrors("initProducerId failed 3 times.", [
    new MultipleErrors("Cannot connect to any broker.", [new NetworkError("connect ECONNREFUSED 127.0.0.1:9")]),
    new MultipleErrors("Cannot connect to any broker.", [new NetworkError("connect ECONNREFUSED 127.0.0.1:9")]),
  ]);
  assert.equal(describeKafkaError(repeated), "initProducerId failed 3 times. (connect ECONNREFUSED 127.0.0.1:9)");
  const tooLarge = describeKafkaError(produceFailure(10));
  assert.match(tooLarge, /^Producing messages failed\. \(MESSAGE_TOO_LARGE: The request included a message larger than the max message size/);
  assert.match(describeKafkaError(produceFailure(87, "needs a key")), /INVALID_RECORD: .* \(needs a key\)\)$/);
  assert.equal(describeKafkaError(new UserError("Unknown topic logship.")), "Unknown topic logship.");
  const many = new MultipleErrors("failed", Array.from({ length: 7 }, (_, index) => new NetworkError(`reason ${index}`)));
  assert.equal(describeKafkaError(many), "failed (reason 0; reason 1; reason 2; reason 3; 3 more)");
});

test("a passing error a broker answered is worth another try at once; timeouts, dead connections and permanent errors are not", () => {
  assert.equal(brokerSaidRetry(produceFailure(14)), true); // COORDINATOR_LOAD_IN_PROGRESS
  assert.equal(brokerSaidRetry(produceFailure(6)), true); // NOT_LEADER_OR_FOLLOWER
  assert.equal(brokerSaidRetry(produceFailure(19)), true); // NOT_ENOUGH_REPLICAS
  assert.equal(brokerSaidRetry(produceFailure(10)), false); // MESSAGE_TOO_LARGE
  assert.equal(brokerSaidRetry(produceFailure(29)), false); // TOPIC_AUTHORIZATION_FAILED: an operator's job
  assert.equal(brokerSaidRetry(new TimeoutError("Request timed out")), false);
  assert.equal(brokerSaidRetry(new MultipleErrors("Cannot connect to any broker.", [new NetworkError("connect ECONNREFUSED 127.0.0.1:9")])), false);
  assert.equal(brokerSaidRetry(new MultipleErrors("failed 2 times.", [produceFailure(6), new TimeoutError("Request timed out")])), false, "time already went into waiting");
  assert.equal(brokerSaidRetry(new UserError("Unknown topic logship.")), false);
});
