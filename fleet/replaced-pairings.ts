/**
 * Pairings a run replaces. A run on an external broker pairs its node ids as its topology says,
 * whatever the twins service or the broker's retained configs held for them: a pairing an operator
 * made (`twinfleet pair n-0003 lamp-1`, a board following a simulated node) was undone with no word.
 * The run still pairs as it must (its figures assume its topology), and says which it replaced.
 */
import type { NodeId } from "../protocol/index.js";
import type { Pairing } from "../sim/topology.js";

/** What the run reads of a node's twin: the sources desired for it and those it reported. */
export interface PairedTwin {
  readonly desired: { readonly sources: readonly string[] };
  readonly config?: { readonly sources: readonly string[] } | undefined;
}

/** How many nodes the line names before it sums the rest. */
const NAMED = 5;

/**
 * The line saying which nodes' sources the run drops (a source desired or reported that its pairing
 * does not have), or undefined when it drops none.
 */
export function replacedPairingsLine(
  twinOf: (id: NodeId) => PairedTwin | undefined,
  ids: readonly NodeId[],
  pairing: Pairing,
): string | undefined {
  const dropped: string[] = [];
  for (const id of ids) {
    const t = twinOf(id);
    if (t === undefined) continue;
    const want = new Set<string>(pairing.get(id) ?? []);
    const had = new Set([...t.desired.sources, ...(t.config?.sources ?? [])]);
    const gone = [...had].filter((s) => !want.has(s)).sort();
    if (gone.length > 0) dropped.push(`${id} no longer follows ${gone.join(", ")}`);
  }
  if (dropped.length === 0) return undefined;
  const named = dropped.slice(0, NAMED).join("; ");
  const more = dropped.length > NAMED ? `; and ${dropped.length - NAMED} more` : "";
  const nodes = dropped.length === 1 ? "1 node" : `${dropped.length} nodes`;
  return `this run pairs its nodes as its topology says, replacing the pairing of ${nodes} held on the broker: ${named}${more}`;
}
