/**
 * The node detail pane as text: what the node is, its state, whom it follows and who follows it,
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

export function renderDetail(d: NodeDetail, width: number): string[] {
  const n = d.node;
  const style = nodeStyle(n);
  const sync = !n.online ? "offline" : n.sync === "unknown" ? "not a follower" : n.sync;
  const lines = [
    `{bold}${n.id}{/bold} ${n.kind ?? "unregistered"}`,
    `${n.on ? "{bold}ON{/bold}" : "off"}  {${style}}${sync}{/${style}}`,
  ];
  if (d.identity) lines.push(`{gray-fg}${escapeTags(d.identity)}{/gray-fg}`);
  lines.push(`follows   ${ids(d.follows, width - 10)}`);
  lines.push(`followers ${ids(d.followers, width - 10)}`);
  const model: string[] = [];
  if (d.cpuPct !== undefined) model.push(`CPU ${d.cpuPct.toFixed(1)}%`);
  if (d.ramBytes !== undefined) model.push(`RAM ${d.ramBytes} B`);
  if (model.length > 0) lines.push(model.join("  "));
  if (d.link) {
    lines.push(`retx ${d.link.retransmissions} t/o ${d.link.timeouts} reconn ${d.link.reconnects}`);
  }
  if (d.cablePulled !== undefined) lines.push(d.cablePulled ? "{red-fg}cable pulled{/red-fg}" : "cable in");
  if (d.lastMessages && d.lastMessages.length > 0) {
    lines.push("{gray-fg}last messages{/gray-fg}");
    for (const m of d.lastMessages) lines.push(escapeTags(m.length > width ? m.slice(0, width) : m));
  }
  return lines;
}
