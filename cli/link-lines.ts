/**
 * The summary's lines of the link between the nodes and the broker: what the kernel dropped in
 * real-loss mode, how the sessions lost ended, and what the nodes dropped of what they were sent.
 */
import type { Report } from "../fleet/report.js";
import { DROP_REASONS, type DropReason } from "../protocol/index.js";

/** In real-loss mode, what nftables dropped; nothing otherwise. */
export function kernelLine(r: Report): string {
  const k = r.loss.kernel;
  if (k === undefined) return "";
  const way = (w: { packets: number; dropped: number }) =>
    `${w.dropped} of ${w.packets} (${w.packets > 0 ? ((100 * w.dropped) / w.packets).toFixed(1) : "0.0"} %)`;
  return `\n       loss mode      kernel: nftables dropped ${way(k.toBroker)} packets to the broker, ${way(k.toNodes)} to the nodes`;
}

/** How the sessions lost ended, where the node can tell (a report written before these counts: nothing). */
export function lostBy(l: Report["link"]): string {
  if (l.disconnects === 0 || l.keepaliveTimeouts === undefined) return "";
  // The two later counts only where some session ended so: the line reads as before otherwise.
  const tcp = l.tcpTimeouts ? `, ${l.tcpTimeouts} by TCP timeout` : "";
  const power = l.powerCuts ? `, ${l.powerCuts} by power cut` : "";
  const own = l.closedByNode ? `, ${l.closedByNode} closed by the node` : "";
  return ` (${l.keepaliveTimeouts} by keepalive, ${l.closedByBroker} closed by the broker${own}${tcp}${power})`;
}

/**
 * What the nodes dropped of what the broker sent them, when they dropped anything: messages, by
 * reason (the core's drops and the sketch's refusals), and packets over PubSubClient's buffer. A
 * `stale` copy (a stamp not newer than the node's) is how a pairing cycle's echo ends and a late
 * copy is ignored, by design: it stays in the report's counts, not on this line.
 */
export function dropsLine(l: Report["link"]): string {
  const counts = DROP_REASONS.map((r) => [r, l.drops?.[r]] as const).filter(
    (c): c is readonly [DropReason, number] => c[0] !== "stale" && typeof c[1] === "number" && c[1] > 0,
  );
  const by = counts.map(([r, n]) => `${n} ${r}`);
  const messages = counts.reduce((sum, [, n]) => sum + n, 0);
  const over = l.oversizedDropped;
  if (messages === 0 && !over) return "";
  const parts = [
    ...(messages > 0 ? [`${messages} message${messages === 1 ? "" : "s"} (${by.join(", ")})`] : []),
    ...(over ? [`${over} packet${over === 1 ? "" : "s"} over PubSubClient's buffer`] : []),
  ];
  return `\n       dropped        by the nodes: ${parts.join(", ")}`;
}
