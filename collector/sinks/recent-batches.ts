/**
 * Which agent batches a Kafka log runner has already taken in its current
 * consumer-group session, so a second copy of a batch in the topic (docs/
 * KAFKA.md, "What the log topic may contain") is skipped instead of sent to
 * the sink again. A batch is named by (tenant, agent, seq) for ever; all of
 * an agent's batches share a key, hence a partition, so both copies reach
 * the same runner unless the partition moved between them (then the sink's
 * idempotence by event id absorbs the copy).
 *
 * Only what this session took is remembered, never what an earlier one
 * did: a runner that dies before delivering starts a new session, and the
 * copy it then reads is the only one it will deliver. Entries below an
 * agent's floor are dropped (the agent never sends those seqs again), and
 * at most SEQS_PER_AGENT_MAX per agent are kept (oldest dropped first:
 * forgetting one only costs a duplicate send).
 */
export const SEQS_PER_AGENT_MAX = 10_000;

interface AgentSeqs {
  floor: number;
  seqs: Set<number>;
}

export class RecentBatches {
  private readonly agents = new Map<string, AgentSeqs>();

  /** True when (tenant, agent, seq) was taken before; otherwise remembers it and returns false. */
  takeOnce(batch: { tenant: string; agent: string; seq: number; floor: number }): boolean {
    const name = `${batch.tenant}/${batch.agent}`;
    let state = this.agents.get(name);
    if (state === undefined) this.agents.set(name, (state = { floor: 0, seqs: new Set() }));
    if (batch.floor > state.floor) {
      state.floor = batch.floor;
      for (const seq of state.seqs) if (seq < batch.floor) state.seqs.delete(seq);
    }
    if (state.seqs.has(batch.seq)) return true;
    // Below the floor: a late copy whose first copy this session may never have seen; delivering it is the safe side.
    if (batch.seq < state.floor) return false;
    state.seqs.add(batch.seq);
    if (state.seqs.size > SEQS_PER_AGENT_MAX) state.seqs.delete(state.seqs.values().next().value as number);
    return false;
  }

  /** Seqs remembered in total. */
  get size(): number {
    let total = 0;
    for (const state of this.agents.values()) total += state.seqs.size;
    return total;
  }
}
