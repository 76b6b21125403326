/**
 * The summary's lines for the nodes' broker name naming other addresses mid-run (the report's
 * `brokerMoved`, fleet/broker-address.ts, and a merged report's `shardBrokerMoved`,
 * fleet/shard-moved.ts, each naming its shard): the nodes, as boards given the address, did not
 * follow it.
 */
import type { BrokerMovedReport } from "../fleet/broker-address.js";
import type { Report } from "../fleet/report.js";
import { atText } from "../fleet/when-text.js";

const key = (list: readonly string[]) => [...list].sort().join(" ");

/** One report's (or one shard's) moves; `of` names its shard in a merged report. */
function linesOf(m: BrokerMovedReport, of: string): string[] {
  const nodes = m.nodesAt.join(" and ");
  const whose = of === "" ? "the nodes" : "its nodes";
  return m.moves.map((v) => {
    const names = v.names.join(" and ");
    return key(v.names) === key(m.nodesAt)
      ? `       broker moved   ${of}${m.host} named ${names} again ${atText(v.atMs)}, where ${whose} connect`
      : `       broker moved   ${of}${m.host} named ${names} ${atText(v.atMs)}; ${whose} connect to ${nodes} (what it named at the start), as boards given the address: they did not follow`;
  });
}

/** One line a change of the name; nothing when it did not move. */
export function movedLines(r: Pick<Report, "brokerMoved" | "shardBrokerMoved">): string {
  const lines = [
    ...(r.brokerMoved !== undefined ? linesOf(r.brokerMoved, "") : []),
    ...(r.shardBrokerMoved ?? []).flatMap((m) => linesOf(m, `shard ${m.shard}: `)),
  ];
  return lines.map((l) => `\n${l}`).join("");
}
