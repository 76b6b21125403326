/**
 * The node detail pane as text: what the node is, its state, whom it follows and who follows it,
 * what an operator asked of it that it has not taken yet (a pairing, a set: a live fleet's twins),
 * and, for simulated nodes, the modeled CPU, RAM, link statistics and last messages.
 */
import type { NodeId } from "../../protocol/index.js";
import type { NodeDetail } from "../../view/source.js";
import { nodeStyle } from "./fleet-grid.js";
import { escapeTags } from "./glyphs.js";

function ids(list: readonly NodeId[], width: number): string {
  if (list.length === 0) return "{gray-fg}none{/gray-fg}";
  let out = "";
  for (let i = 0; i < list.length; i++) {
    const next = out === "" ? list[i] : `${out} ${list[i]}`;
    const more = ` +${list.length - i}`;
    if ((next ?? "").length + (i < list.length - 1 ? more.length : 0) > width) return `${out}${more}`;
    out = next ?? out;
  }
  return out;
}

const sameIds = (a: readonly NodeId[], b: readonly NodeId[]) =>
  a.length === b.length && a.every((id) => b.includes(id));

/**
 * What the twins still wait for the node to take: the pairing asked for, where it is not the one
 * the node follows yet (or the node has not confirmed it: `follows` may be the copy written on the
 * broker for an offline node), and a set kept for it (sent when it registers again).
 */
function waiting(d: NodeDetail, width: number): string[] {
  const lines: string[] = [];
  const want = d.desired;
  const other = keptElsewhere(d, width);
  if (want === undefined || !want.pending) return other;
  const differs = !sameIds(want.sources, d.follows);
  if (differs) lines.push(`{yellow-fg}pending{/yellow-fg}   ${ids(want.sources, width - 10)}`);
  else if (want.pairingPending === true)
    lines.push("{yellow-fg}pending{/yellow-fg}   not confirmed by the node");
  const set = want.pendingSet;
  if (set !== undefined) {
    const text = `set ${set.on ? "on" : "off"} waits for the node`;
    const counter = ` (counter ${set.counter})`;
    lines.push(`{yellow-fg}${text.length + counter.length > width ? text : text + counter}{/yellow-fg}`);
  }
  return [...lines, ...other];
}

/**
 * A set another twins service keeps for the node (NodeDetail.keptElsewhere), with the service's
 * client id where it fits: the list and grid marked it, the detail said nothing.
 */
function keptElsewhere(d: NodeDetail, width: number): string[] {
  const k = d.keptElsewhere;
  if (k === undefined) return [];
  const set = `set ${k.on ? "on" : "off"} waits`;
  const by = `kept by ${escapeTags(k.by)}`;
  const text = [`${set} for the node, ${by}`, `${set}, ${by}`, `${set}, kept elsewhere`].find(
    (t) => t.length <= width,
  );
  return [`{yellow-fg}${text ?? set}{/yellow-fg}`];
}

/** A node online only by the status a restarted broker kept (ConsoleNode.unheard). */
export const UNHEARD = "not heard since the broker restarted";

export function renderDetail(d: NodeDetail, width: number): string[] {
  const n = d.node;
  const style = nodeStyle(n);
  const sync = n.unheard ? UNHEARD : !n.online ? "offline" : n.sync === "unknown" ? "not a follower" : n.sync;
  const lines = [
    `{bold}${n.id}{/bold} ${n.kind ?? "unregistered"}`,
    `${n.on ? "{bold}ON{/bold}" : "off"}  {${style}}${sync}{/${style}}`,
  ];
  if (d.identity) lines.push(`{gray-fg}${escapeTags(d.identity)}{/gray-fg}`);
  lines.push(`follows   ${ids(d.follows, width - 10)}`);
  lines.push(...waiting(d, width));
  lines.push(`followers ${ids(d.followers, width - 10)}`);
  const model: string[] = [];
  if (d.cpuPct !== undefined) model.push(`CPU ${d.cpuPct.toFixed(1)}%`);
  if (d.ramBytes !== undefined) model.push(`RAM ${d.ramBytes} B`);
  if (model.length > 0) lines.push(model.join("  "));
  if (d.link) {
    const dropped = d.link.dropped ? ` {yellow-fg}dropped ${d.link.dropped}{/yellow-fg}` : "";
    lines.push(`retx ${d.link.retransmissions} t/o ${d.link.timeouts} reconn ${d.link.reconnects}${dropped}`);
  }
  if (d.cablePulled !== undefined) lines.push(d.cablePulled ? "{red-fg}cable pulled{/red-fg}" : "cable in");
  if (d.lastMessages && d.lastMessages.length > 0) {
    lines.push("{gray-fg}last messages{/gray-fg}");
    for (const m of d.lastMessages) lines.push(escapeTags(m.length > width ? m.slice(0, width) : m));
  }
  return lines;
}
