/**
 * Which batches are already stored, so a batch re-sent after a lost
 * response is acknowledged without being stored twice.
 *
 * Per log (a tenant, or with collector routes a tenant's stream:
 * collector/routing/streams.ts; the API calls it `tenant`) and agent id:
 * the highest `floor` the agent has sent, and the
 * seqs stored with seq ≥ that floor (with their base offsets). The agent
 * promises never to send a seq below its floor again, so entries below it
 * are pruned and a seq below it is answered as a duplicate. Rebuilt at start
 * from the log's record headers (`noteStored` for each), so it survives
 * restarts.
 *
 * A batch being stored holds a claim on its (agent, seq): a second copy
 * arriving meanwhile waits for the first to finish, then is a duplicate (if
 * it was stored) or takes the claim itself (if storing failed).
 *
 * Limits: at most SEQS_PER_AGENT_MAX seqs per agent (an agent whose floor
 * never rises); beyond it the oldest entries are dropped with a warning. The
 * table grows with the number of distinct agent ids (~100 bytes each plus its
 * seqs).
 */
import { assert } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";

export const SEQS_PER_AGENT_MAX = 100_000;

interface AgentState {
  floor: number;
  /** seq → base offset of its record. */
  stored: Map<number, number>;
  /** seq → settles when the claim is committed or released. */
  claimed: Map<number, Promise<void>>;
  overflowWarned: boolean;
}

export type Claim =
  /** Already stored (offset unknown when the seq is below the agent's floor). */
  | { kind: "duplicate"; offset: number | null }
  /** Another request is storing it now: wait, then claim again. */
  | { kind: "busy"; settled: Promise<void> }
  /** Store it, then `commit(baseOffset)`; or `release()` when storing failed. */
  | { kind: "claimed"; commit: (baseOffset: number) => void; release: () => void };

export class DedupeIndex {
  private readonly tenants = new Map<string, Map<string, AgentState>>();
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  /** A stored record (at rebuild, and after each append). */
  noteStored(tenant: string, agent: string, seq: number, floor: number, baseOffset: number): void {
    const state = this.agentState(tenant, agent);
    this.raiseFloor(state, floor);
    if (seq >= state.floor) this.remember(state, tenant, agent, seq, baseOffset);
  }

  /** The agent's floor as a batch said it, for a log the batch has no part in (collector routes: every stream log of the tenant hears every floor, so none keeps seqs the agent will never send again). */
  noteFloor(tenant: string, agent: string, floor: number): void {
    this.raiseFloor(this.agentState(tenant, agent), floor);
  }

  claim(tenant: string, agent: string, seq: number, floor: number): Claim {
    const state = this.agentState(tenant, agent);
    this.raiseFloor(state, floor);
    if (seq < state.floor) return { kind: "duplicate", offset: null };
    const offset = state.stored.get(seq);
    if (offset !== undefined) return { kind: "duplicate", offset };
    const busy = state.claimed.get(seq);
    if (busy !== undefined) return { kind: "busy", settled: busy };
    let settle!: () => void;
    state.claimed.set(seq, new Promise<void>((resolve) => (settle = resolve)));
    let done = false;
    const finish = (): void => {
      assert(!done, "a claim is committed or released once");
      done = true;
      state.claimed.delete(seq);
      settle();
    };
    return {
      kind: "claimed",
      commit: (baseOffset) => {
        if (seq >= state.floor) this.remember(state, tenant, agent, seq, baseOffset);
        finish();
      },
      release: finish,
    };
  }

  /** Seqs remembered in total (for status and tests). */
  get size(): number {
    let total = 0;
    for (const agents of this.tenants.values()) for (const state of agents.values()) total += state.stored.size;
    return total;
  }

  private agentState(tenant: string, agent: string): AgentState {
    let agents = this.tenants.get(tenant);
    if (agents === undefined) this.tenants.set(tenant, (agents = new Map()));
    let state = agents.get(agent);
    if (state === undefined) agents.set(agent, (state = { floor: 0, stored: new Map(), claimed: new Map(), overflowWarned: false }));
    return state;
  }

  private raiseFloor(state: AgentState, floor: number): void {
    if (floor <= state.floor) return;
    state.floor = floor;
    for (const seq of state.stored.keys()) if (seq < floor) state.stored.delete(seq);
  }

  private remember(state: AgentState, tenant: string, agent: string, seq: number, baseOffset: number): void {
    state.stored.set(seq, baseOffset);
    if (state.stored.size <= SEQS_PER_AGENT_MAX) return;
    // Insertion order is roughly seq order: drop the oldest.
    const oldest = state.stored.keys().next().value as number;
    state.stored.delete(oldest);
    if (!state.overflowWarned) {
      state.overflowWarned = true;
      this.logger.warn("an agent has more unfloored batches than the idempotence table keeps; the oldest are forgotten", {
        tenant,
        agent,
        limit: SEQS_PER_AGENT_MAX,
        floor: state.floor,
      });
    }
  }
}
