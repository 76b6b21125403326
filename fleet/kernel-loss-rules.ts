/**
 * The pure parts of real-loss mode (`--loss-mode kernel`, fleet/kernel-loss.ts): what the option
 * may not be combined with, the names and addresses of the run's network namespace and veth pair,
 * the nftables ruleset that drops the nodes' packets at random (and its atomic loss change), the
 * counters read back from `nft -j`, and which leftover namespaces of killed runs to remove.
 */
import type { FleetOptionIssue } from "./option-errors.js";

/** Where the nodes' packets are lost: in the link model (default), or by the kernel (nftables). */
export const LOSS_MODES = ["model", "kernel"] as const;
export type LossMode = (typeof LOSS_MODES)[number];

/** Every namespace of a kernel-loss run is named `twinfleet-<pid>-<n>`: a stale one's pid is dead. */
export const NETNS_PREFIX = "twinfleet-";
export const NFT_TABLE = "twinfleet_loss";

/** The combinations a kernel-loss run refuses, as option problems naming the fields. */
export function kernelLossIssues(
  o: {
    readonly lossMode: LossMode;
    readonly broker?: string | undefined;
    readonly clock: string;
    readonly gilbertElliott?: unknown;
    readonly lossPct: number;
  },
  faults: readonly { readonly kind: string; readonly pct?: number }[],
): FleetOptionIssue[] {
  if (o.lossMode !== "kernel") return [];
  const issues: FleetOptionIssue[] = [];
  if (o.broker !== undefined) {
    issues.push({
      field: "lossMode",
      text: (n) =>
        `kernel runs the fleet's own broker in a network namespace; ${n("broker")} names someone else's`,
    });
  }
  if (o.clock === "virtual") {
    issues.push({
      field: "lossMode",
      text: (n) => `kernel needs real sockets and real time; ${n("clock")} virtual runs in memory`,
    });
  }
  if (o.gilbertElliott !== undefined) {
    issues.push({
      field: "lossMode",
      text: (n) =>
        `kernel drops each packet on its own (nftables numgen); ${n("gilbertElliott")} is the model's bursty loss`,
    });
  }
  if (!Number.isInteger(o.lossPct)) {
    issues.push({
      field: "lossPct",
      text: (n) =>
        `must be a whole percent with ${n("lossMode")} kernel (nftables draws 0-99), got ${o.lossPct}`,
    });
  }
  const fractional = faults.filter((f) => f.pct !== undefined && !Number.isInteger(f.pct));
  if (fractional.length > 0) {
    issues.push({
      field: "faults",
      text: (n) =>
        `a loss fault's pct must be a whole percent with ${n("lossMode")} kernel (nftables draws 0-99), got ${fractional.map((f) => f.pct).join(", ")}`,
    });
  }
  return issues;
}

/** The names and addresses of one kernel-loss run's namespace. */
export interface KernelNet {
  /** `ip netns` name. */
  readonly netns: string;
  /** The veth end in this (the root) namespace, and its peer inside the run's namespace. */
  readonly hostIf: string;
  readonly nsIf: string;
  /** The host end's address (/24). */
  readonly hostAddr: string;
  /** The broker's address for the nodes: every packet to or from it on the broker's port may be dropped. */
  readonly nodesAddr: string;
  /** The broker's address for the twins service and the run's tools: never dropped. */
  readonly controlAddr: string;
}

/** Subnets 10.213.K.0/24 are the runs' own; K is the first not already on an interface here. */
const SUBNET = "10.213";

/** The names and addresses for run `seq` of process `pid`, avoiding the subnets in `usedAddrs`. */
export function planKernelNet(pid: number, seq: number, usedAddrs: readonly string[]): KernelNet {
  if (!Number.isInteger(pid) || pid < 1) throw new Error(`kernel loss: bad pid ${pid}`);
  const taken = new Set(
    usedAddrs.flatMap((a) => {
      const m = /^10\.213\.(\d+)\./.exec(a);
      return m ? [Number(m[1])] : [];
    }),
  );
  const start = (pid + seq) % 256;
  let k = -1;
  for (let i = 0; i < 256; i++) {
    const c = (start + i) % 256;
    if (!taken.has(c)) {
      k = c;
      break;
    }
  }
  if (k < 0) throw new Error(`kernel loss: every subnet ${SUBNET}.0-255.0/24 is in use`);
  // IFNAMSIZ is 16 with the NUL: "tf" + base-36 pid (≤ 5) + seq (≤ 3) + 1 side = 11 at most.
  const tag = `tf${pid.toString(36)}${(seq % 46656).toString(36)}`;
  return {
    netns: `${NETNS_PREFIX}${pid}-${seq}`,
    hostIf: `${tag}h`,
    nsIf: `${tag}n`,
    hostAddr: `${SUBNET}.${k}.1`,
    nodesAddr: `${SUBNET}.${k}.2`,
    controlAddr: `${SUBNET}.${k}.3`,
  };
}

/** The `ip` commands (argument lists) that build `net`; the broker is started inside afterwards. */
export function setupCommands(net: KernelNet): string[][] {
  const inNs = (...a: string[]) => ["-n", net.netns, ...a];
  return [
    ["netns", "add", net.netns],
    ["link", "add", net.hostIf, "type", "veth", "peer", "name", net.nsIf],
    ["link", "set", net.nsIf, "netns", net.netns],
    ["addr", "add", `${net.hostAddr}/24`, "dev", net.hostIf],
    // One TCP segment per packet both ways (no GSO super-packets): nftables then draws each segment
    // on its own, as a link loses them, rather than a burst of segments at once.
    ["link", "set", net.hostIf, "gso_max_segs", "1"],
    ["link", "set", net.hostIf, "up"],
    inNs("link", "set", net.nsIf, "gso_max_segs", "1"),
    inNs("addr", "add", `${net.nodesAddr}/24`, "dev", net.nsIf),
    inNs("addr", "add", `${net.controlAddr}/24`, "dev", net.nsIf),
    inNs("link", "set", net.nsIf, "up"),
    inNs("link", "set", "lo", "up"),
  ];
}

/**
 * The `ip` commands that remove a run's namespace: deleting it destroys the veth pair (both ends) and
 * its nftables table with it. Processes still inside (a broker orphaned by a kill -9) are killed first.
 */
export function cleanupCommands(netns: string): string[][] {
  return [["netns", "del", netns]];
}

function checkWhole(pct: number): void {
  if (!Number.isInteger(pct) || pct < 0 || pct > 100) {
    throw new RangeError(`kernel loss ${pct}: a whole percent from 0 to 100 (nftables numgen draws 0-99)`);
  }
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`kernel loss: port ${port} is not 1-65535`);
}

/** The drop rules at `pct` %: each packet to / from the nodes' address on `port` drawn on its own, counted. */
function rules(net: KernelNet, port: number, pct: number): string[] {
  const into = `ip daddr ${net.nodesAddr} tcp dport ${port}`;
  const out = `ip saddr ${net.nodesAddr} tcp sport ${port}`;
  const draw = `numgen random mod 100 < ${pct}`;
  return [
    `add rule inet ${NFT_TABLE} input ${into} counter name "to_broker_seen"`,
    `add rule inet ${NFT_TABLE} input ${into} ${draw} counter name "to_broker_dropped" drop`,
    `add rule inet ${NFT_TABLE} output ${out} counter name "to_nodes_seen"`,
    `add rule inet ${NFT_TABLE} output ${out} ${draw} counter name "to_nodes_dropped" drop`,
  ];
}

/**
 * The whole ruleset for `nft -f -` inside the namespace: a table with four named counters and the
 * drop rules on the broker's side of the veth (input: node → broker, output: broker → node).
 */
export function nftSetup(net: KernelNet, port: number, pct: number): string {
  checkPort(port);
  checkWhole(pct);
  return [
    `add table inet ${NFT_TABLE}`,
    ...COUNTERS.map((c) => `add counter inet ${NFT_TABLE} ${c}`),
    `add chain inet ${NFT_TABLE} input { type filter hook input priority 0; policy accept; }`,
    `add chain inet ${NFT_TABLE} output { type filter hook output priority 0; policy accept; }`,
    ...rules(net, port, pct),
    "",
  ].join("\n");
}

/** A loss change: one `nft -f -` transaction (atomic) flushing both chains and adding them back at `pct`. */
export function nftSetLoss(net: KernelNet, port: number, pct: number): string {
  checkPort(port);
  checkWhole(pct);
  return [
    `flush chain inet ${NFT_TABLE} input`,
    `flush chain inet ${NFT_TABLE} output`,
    ...rules(net, port, pct),
    "",
  ].join("\n");
}

export const COUNTERS = ["to_broker_seen", "to_broker_dropped", "to_nodes_seen", "to_nodes_dropped"] as const;

/** Packets the nodes sent to the broker and the broker to the nodes, and how many of each were dropped. */
export interface KernelDrops {
  readonly toBroker: { readonly packets: number; readonly dropped: number };
  readonly toNodes: { readonly packets: number; readonly dropped: number };
}

/** The counters from `nft -j list counters table inet twinfleet_loss`. */
export function parseCounters(json: string): KernelDrops {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new Error(`kernel loss: nft printed no JSON: ${json.slice(0, 200)}`);
  }
  const items = (doc as { nftables?: unknown }).nftables;
  if (!Array.isArray(items)) throw new Error("kernel loss: nft JSON has no nftables list");
  const got = new Map<string, number>();
  for (const it of items) {
    const c = (it as { counter?: { name?: unknown; packets?: unknown } }).counter;
    if (c && typeof c.name === "string" && typeof c.packets === "number") got.set(c.name, c.packets);
  }
  const need = (name: string) => {
    const v = got.get(name);
    if (v === undefined) throw new Error(`kernel loss: counter ${name} missing from nft's answer`);
    return v;
  };
  return {
    toBroker: { packets: need("to_broker_seen"), dropped: need("to_broker_dropped") },
    toNodes: { packets: need("to_nodes_seen"), dropped: need("to_nodes_dropped") },
  };
}

/**
 * The namespaces (from `ip netns list`) left by kernel-loss runs whose process is gone (a kill -9):
 * `alive(pid)` says whether a process lives.
 */
export function staleNamespaces(list: string, alive: (pid: number) => boolean): string[] {
  const out: string[] = [];
  for (const line of list.split("\n")) {
    const name = line.trim().split(/\s+/)[0] ?? "";
    const m = /^twinfleet-(\d+)-\d+$/.exec(name);
    if (m && !alive(Number(m[1]))) out.push(name);
  }
  return out;
}
