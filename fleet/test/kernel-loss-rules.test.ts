// Real-loss mode's pure parts: the option's checks, the namespace's names and addresses, the ip
// commands that build and remove it, the nftables rulesets, the counters read back, and which
// leftover namespaces are stale.
import { describe, expect, it } from "vitest";
import {
  cleanupCommands,
  nftSetLoss,
  nftSetup,
  parseCounters,
  planKernelNet,
  setupCommands,
  staleNamespaces,
} from "../kernel-loss-rules.js";
import { type FleetOptions, FleetOptionsError, lossSpecOf, resolveFleetOptions } from "../options.js";

function problems(o: FleetOptions): string {
  try {
    resolveFleetOptions(o);
  } catch (e) {
    if (e instanceof FleetOptionsError) return e.message;
    throw e;
  }
  return "";
}

describe("--loss-mode options", () => {
  it("defaults to model, accepts kernel with the run's own broker, and refuses anything else", () => {
    expect(resolveFleetOptions({}).lossMode).toBe("model");
    expect(resolveFleetOptions({ lossMode: "kernel", lossPct: 10 }).lossMode).toBe("kernel");
    expect(resolveFleetOptions({ lossMode: "kernel", brokerProcess: true }).lossMode).toBe("kernel");
    expect(problems({ lossMode: "netem" as never })).toBe(
      'options.lossMode: must be model or kernel, got "netem"',
    );
  });

  it("refuses kernel with someone else's broker, virtual time, bursty loss or a fractional percent", () => {
    expect(problems({ lossMode: "kernel", broker: "mqtt://lab:1883" })).toContain(
      "options.lossMode: kernel runs the fleet's own broker in a network namespace; options.broker names someone else's",
    );
    expect(problems({ lossMode: "kernel", clock: "virtual" })).toContain(
      "options.lossMode: kernel needs real sockets and real time; options.clock virtual runs in memory",
    );
    expect(
      problems({ lossMode: "kernel", gilbertElliott: { pGoodToBad: 0.1, pBadToGood: 0.5, lossBad: 0.5 } }),
    ).toContain("options.gilbertElliott is the model's bursty loss");
    expect(problems({ lossMode: "kernel", lossPct: 2.5 })).toBe(
      "options.lossPct: must be a whole percent with options.lossMode kernel (nftables draws 0-99), got 2.5",
    );
    expect(problems({ lossMode: "kernel", faults: [{ kind: "loss", atS: 5, pct: 12.5, forS: 5 }] })).toBe(
      "options.faults: a loss fault's pct must be a whole percent with options.lossMode kernel (nftables draws 0-99), got 12.5",
    );
    // The model draws any fraction.
    expect(problems({ lossPct: 2.5 })).toBe("");
    expect(problems({ faults: [{ kind: "loss", atS: 5, pct: 12.5 }] })).toBe("");
  });

  it("turns the nodes' model loss off in kernel mode, whatever the percent", () => {
    const kernel = resolveFleetOptions({ lossMode: "kernel", lossPct: 25 });
    expect(lossSpecOf(kernel, 25)).toEqual({ kind: "none" });
    expect(lossSpecOf(resolveFleetOptions({ lossPct: 25 }), 25)).toEqual({ kind: "bernoulli", p: 0.25 });
  });
});

describe("the namespace's plan", () => {
  it("names it after the process and run, with interface names the kernel takes", () => {
    const n = planKernelNet(4_194_303, 46_655, []);
    expect(n.netns).toBe("twinfleet-4194303-46655");
    expect(n.hostIf.length).toBeLessThanOrEqual(15);
    expect(n.nsIf.length).toBeLessThanOrEqual(15);
    expect(n.hostIf).not.toBe(n.nsIf);
  });

  it("takes a 10.213.K.0/24 no interface here has, with separate addresses for nodes and control", () => {
    const n = planKernelNet(300, 0, ["10.213.44.1/24", "192.168.1.5/24"]);
    expect(n).toMatchObject({
      hostAddr: "10.213.45.1",
      nodesAddr: "10.213.45.2",
      controlAddr: "10.213.45.3",
    });
    const all = Array.from({ length: 256 }, (_, k) => `10.213.${k}.1/24`);
    expect(() => planKernelNet(300, 0, all)).toThrow("every subnet 10.213.0-255.0/24 is in use");
    expect(() => planKernelNet(0, 0, [])).toThrow("bad pid 0");
  });

  it("builds the namespace, the veth pair and both addresses, and removes it all with the namespace", () => {
    const n = planKernelNet(300, 1, []);
    const cmds = setupCommands(n).map((c) => c.join(" "));
    expect(cmds[0]).toBe(`netns add ${n.netns}`);
    expect(cmds).toContain(`link add ${n.hostIf} type veth peer name ${n.nsIf}`);
    expect(cmds).toContain(`link set ${n.nsIf} netns ${n.netns}`);
    expect(cmds).toContain(`-n ${n.netns} addr add ${n.nodesAddr}/24 dev ${n.nsIf}`);
    expect(cmds).toContain(`-n ${n.netns} addr add ${n.controlAddr}/24 dev ${n.nsIf}`);
    expect(cmds).toContain(`-n ${n.netns} link set lo up`);
    // One segment per packet, so each is drawn on its own.
    expect(cmds).toContain(`link set ${n.hostIf} gso_max_segs 1`);
    expect(cmds).toContain(`-n ${n.netns} link set ${n.nsIf} gso_max_segs 1`);
    expect(cleanupCommands(n.netns)).toEqual([["netns", "del", n.netns]]);
  });
});

describe("nftables rulesets", () => {
  const n = planKernelNet(300, 0, []);

  it("drops and counts only the nodes' address on the broker's port, each way", () => {
    const text = nftSetup(n, 41_873, 10);
    expect(text).toContain("add table inet twinfleet_loss");
    for (const c of ["to_broker_seen", "to_broker_dropped", "to_nodes_seen", "to_nodes_dropped"])
      expect(text).toContain(`add counter inet twinfleet_loss ${c}`);
    expect(text).toContain(
      `add rule inet twinfleet_loss input ip daddr ${n.nodesAddr} tcp dport 41873 numgen random mod 100 < 10 counter name "to_broker_dropped" drop`,
    );
    expect(text).toContain(
      `add rule inet twinfleet_loss output ip saddr ${n.nodesAddr} tcp sport 41873 numgen random mod 100 < 10 counter name "to_nodes_dropped" drop`,
    );
    expect(text).not.toContain(n.controlAddr);
  });

  it("changes the loss in one transaction that flushes both chains and keeps the counters", () => {
    const text = nftSetLoss(n, 41_873, 25);
    const lines = text.trim().split("\n");
    expect(lines.slice(0, 2)).toEqual([
      "flush chain inet twinfleet_loss input",
      "flush chain inet twinfleet_loss output",
    ]);
    expect(lines.filter((l) => l.includes("< 25")).length).toBe(2);
    expect(text).not.toContain("add counter");
    expect(text).not.toContain("table inet twinfleet_loss {");
  });

  it("refuses a fractional or out-of-range percent and a bad port, naming them", () => {
    expect(() => nftSetLoss(n, 1883, 2.5)).toThrow("kernel loss 2.5: a whole percent from 0 to 100");
    expect(() => nftSetup(n, 1883, 101)).toThrow("kernel loss 101");
    expect(() => nftSetup(n, 0, 10)).toThrow("port 0 is not 1-65535");
  });
});

describe("reading back and cleaning up", () => {
  it("reads the four counters from nft's JSON, and says which is missing", () => {
    const counter = (name: string, packets: number) => ({
      counter: { family: "inet", name, table: "twinfleet_loss", handle: 3, packets, bytes: 0 },
    });
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: "1.0.6" } },
        counter("to_broker_seen", 200),
        counter("to_broker_dropped", 21),
        counter("to_nodes_seen", 400),
        counter("to_nodes_dropped", 38),
      ],
    });
    expect(parseCounters(json)).toEqual({
      toBroker: { packets: 200, dropped: 21 },
      toNodes: { packets: 400, dropped: 38 },
    });
    const short = JSON.stringify({ nftables: [counter("to_broker_seen", 1)] });
    expect(() => parseCounters(short)).toThrow("counter to_broker_dropped missing");
    expect(() => parseCounters("Error: no such table")).toThrow("nft printed no JSON");
  });

  it("finds the namespaces of runs whose process is gone, and only twinfleet's", () => {
    const list = [
      "twinfleet-100-0 (id: 3)",
      "twinfleet-200-1",
      "twinfleet-300-0 (id: 1)",
      "tfcal9334",
      "twinfleet-x-0",
      "",
    ].join("\n");
    const alive = (pid: number) => pid === 200;
    expect(staleNamespaces(list, alive)).toEqual(["twinfleet-100-0", "twinfleet-300-0"]);
  });
});
