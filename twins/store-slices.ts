/**
 * A whole snapshot taken and written a slice of records at a time, the event loop free between two
 * slices: the registry's walk (TwinRegistry.snapshotInSlices) and the text of `twins.json`
 * (`snapshotSlices`, streamed to the temporary file by store-journal.ts replaceInSlices). Done at
 * once, a fold of the journal, a start's first write or a stop's last held every message, timer and
 * answer of a 100,000-node service for the whole of it (half a second and more). The text is the
 * same, byte for byte, as snapshotText's (store-format.ts), which a start reads and `markable` checks.
 */
import { hostTurn } from "./clock.js";
import type { StoredState } from "./store.js";
import type { BrokerSeen } from "./store-lock.js";

/** Records walked or serialised between two turns of the event loop: a few milliseconds' work. */
export const SLICE_RECORDS = 2_000;

/** A whole state, or its walk under way (TwinRegistry.snapshotInSlices). */
export type Whole = StoredState | Promise<StoredState>;

/** How a whole snapshot is sliced: records per slice (Infinity: all at once), and the turn between two. */
export interface Slicing {
  readonly records?: number;
  /** Resolves once the event loop has turned (default: hostTurn, after the I/O ready now). */
  readonly turn?: () => Promise<void>;
}

/** `slicing` with its defaults filled in. */
export function slicingOf(slicing: Slicing | undefined): Required<Slicing> {
  const records = slicing?.records ?? SLICE_RECORDS;
  if (!(records >= 1)) throw new RangeError(`records per slice must be 1 or more, not ${records}`);
  return { records, turn: slicing?.turn ?? hostTurn };
}

/**
 * The text of a snapshot (store-format.ts snapshotText: the same bytes) in pieces of at most
 * `records` nodes, each serialised only when it is asked for: `state` is read as the pieces are.
 */
export function* snapshotSlices(
  format: number,
  generation: number,
  fleet: string | undefined,
  state: StoredState,
  broker: BrokerSeen | undefined,
  records: number,
): Generator<string, void, undefined> {
  const head = { format, journal: generation, ...(fleet !== undefined ? { fleet } : {}) };
  // The head as JSON.stringify indents it, its `nodes` empty: `…,\n "nodes": {}\n}`.
  const empty = JSON.stringify({ ...head, ...(broker !== undefined ? { broker } : {}), nodes: {} }, null, 1);
  let text = empty.slice(0, -"{}\n}".length);
  let first = true;
  let inSlice = 0;
  for (const id of Object.keys(state.nodes)) {
    // A record at depth 2: its lines after the first indented two spaces more than at depth 0.
    const value: string | undefined = JSON.stringify(state.nodes[id], null, 1);
    if (value === undefined) continue; // as JSON.stringify leaves an undefined property out
    text += `${first ? "{" : ","}\n  ${JSON.stringify(id)}: ${value.replaceAll("\n", "\n  ")}`;
    first = false;
    if (++inSlice >= records) {
      yield text;
      text = "";
      inSlice = 0;
    }
  }
  yield `${text}${first ? "{}" : "\n }"}\n}\n`;
}
