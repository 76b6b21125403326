// Real-loss mode against the real kernel: a small fleet of pairs with its broker in a network
// namespace and nftables dropping 10 % of the nodes' packets each way. As root (here and in CI) it
// runs and checks that packets were really dropped, that the kernel's TCP recovered every one of
// them, and that the namespace is gone afterwards (a stale one of a killed run too); without root
// it checks the error that says so.
import { execFileSync, spawnSync } from "node:child_process";
import { connect } from "node:net";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { wallScheduler } from "../../twins/clock.js";
import { KernelBroker, KernelLossNet, kernelLossProblem } from "../kernel-loss.js";
import { FleetRun, runFleet } from "../run.js";
import { limitForStarts } from "./start-limit.js";

const asRoot = process.getuid?.() === 0;
const namespaces = () => execFileSync("ip", ["netns", "list"], { encoding: "utf8" });

/** What a process of user nobody is told (setpriv drops root for it). */
function problemAsNobody(): string {
  const code = `import("./fleet/kernel-loss.ts").then((m) => process.stdout.write(String(m.kernelLossProblem())))`;
  const r = spawnSync(
    "setpriv",
    ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "--import", "tsx", "-e", code],
    { cwd: new URL("../..", import.meta.url).pathname, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`setpriv: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

// Only the tests for the machine at hand are defined: as root the real thing, else the refusal.
const only = (when: boolean) => (name: string, fn: () => void) => {
  if (when) describe(name, fn);
};
const suite = only(asRoot);
const nonRoot = only(!asRoot);

suite("--loss-mode kernel as root", () => {
  it(
    "needs nothing it lacks here; a user other than root is told it needs root",
    () => {
      expect(kernelLossProblem()).toBeUndefined();
      expect(problemAsNobody()).toBe(
        "--loss-mode kernel needs root (network namespaces and nftables need it); run as root with iproute2 and nftables installed, or use --loss-mode model",
      );
      // A node process through the TypeScript loader, which compiles the module and its imports first.
    },
    limitForStarts(1),
  );

  it("rewrites the drop rules atomically on a loss change, and removes the namespace on close", async () => {
    const k = KernelLossNet.create();
    const rules = () =>
      execFileSync("ip", ["netns", "exec", k.net.netns, "nft", "list", "table", "inet", "twinfleet_loss"], {
        encoding: "utf8",
      });
    try {
      k.install(1883, 10);
      expect(rules().match(/numgen random mod 100 < 10/g)?.length).toBe(2);
      await Promise.all([k.setLoss(30), k.setLoss(5)]);
      // In the order asked: the last one holds.
      expect(rules().match(/numgen random mod 100 < 5 /g)?.length).toBe(2);
      expect(rules()).not.toContain("< 30");
      expect(k.drops()).toEqual({
        toBroker: { packets: 0, dropped: 0 },
        toNodes: { packets: 0, dropped: 0 },
      });
    } finally {
      k.close();
    }
    expect(namespaces()).not.toContain(k.net.netns);
    expect(k.drops()).toBeUndefined();
  });

  it(
    "passes on its broker's warnings, but not that it listens beyond loopback in its own namespace",
    async () => {
      const lines: { level: number; msg: string }[] = [];
      const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
      const broker = await KernelBroker.start(undefined, wallScheduler, 0, logger);
      try {
        // A CONNECT declaring 2 MB, over the packet limit: the broker cuts it with a warning.
        const socket = connect(Number(new URL(broker.url).port), broker.loss.net.controlAddr);
        socket.on("error", () => {});
        socket.write(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x01]));
        await expect
          .poll(() => lines.find((l) => l.msg === "connection cut: packet limit"))
          .toEqual(expect.objectContaining({ level: 40 }));
        socket.destroy();
        expect(lines.filter((l) => l.msg.includes("beyond loopback"))).toEqual([]);
      } finally {
        await broker.close();
      }
      // One start of the broker process, in its namespace.
    },
    limitForStarts(1),
  );

  it("loses 10 % of the nodes' packets in the kernel, and the kernel's TCP recovers them", async () => {
    // A namespace as a kill -9 leaves it: its process (a finished one) is gone.
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    const stale = `twinfleet-${dead}-0`;
    execFileSync("ip", ["netns", "add", stale]);
    const run = await FleetRun.start({
      lossMode: "kernel",
      lossPct: 10,
      nodes: 20,
      topology: "pairs",
      profile: "ideal",
      ratePerNodePerMin: 90,
      durationS: 10,
      // Room for a press near the end whose segment the kernel loses three or four times running (its
      // RTO doubles from 200 ms: 1.4 s, 3 s), on a loaded host: with 2 s, one run in the full suite
      // ended with 3 presses still on their way (lost for good, a follower diverged).
      settleS: 6,
      workers: 1,
    });
    const net = run.kernelNet;
    expect(net).toBeDefined();
    expect(namespaces()).not.toContain(stale);
    expect(namespaces()).toContain(net?.netns);
    // The twins service talks to the broker at the address nothing is dropped on.
    expect(run.brokerUrl).toContain(`mqtt://${net?.controlAddr}:`);
    expect(() => run.setLoss(2.5)).toThrow("kernel loss 2.5: a whole percent from 0 to 100");
    // The settle puts the loss back to 0 %: the rule is rewritten (read while the namespace is there).
    const ruleAtSettle = new Promise<string>((resolve) => {
      run.on("phase", async (p) => {
        if (p !== "settle" || net === undefined) return;
        const read = () => {
          try {
            const args = [
              "netns",
              "exec",
              net.netns,
              "nft",
              "list",
              "chain",
              "inet",
              "twinfleet_loss",
              "input",
            ];
            return execFileSync("ip", args, { encoding: "utf8" });
          } catch (e) {
            return `nft failed: ${(e as Error).message}`;
          }
        };
        // setLoss hands the rule to nft without waiting: give it up to 2 s.
        for (let i = 0; i < 40 && !read().includes("< 0 "); i++) await new Promise((r) => setTimeout(r, 50));
        resolve(read());
      });
    });
    const r = await run.done;
    expect(await ruleAtSettle).toMatch(/numgen random mod 100 < 0 counter name "to_broker_dropped" drop/);
    expect(r.loss.changes).toEqual([expect.objectContaining({ pct: 0, by: "settle" })]);
    expect(r.scenario.lossMode).toBe("kernel");
    const k = r.loss.kernel;
    if (k === undefined) throw new Error("no kernel counters in the report");
    for (const way of [k.toBroker, k.toNodes]) {
      expect(way.dropped).toBeGreaterThan(0);
      // 10 % drawn per packet during the presses; the 0 % settle adds a few packets never dropped.
      const pct = (100 * way.dropped) / way.packets;
      expect(pct).toBeGreaterThan(5);
      expect(pct).toBeLessThan(15);
    }
    // The model loses nothing itself: every retransmission was the kernel's.
    expect(r.link.retransmissions).toBe(0);
    expect(r.presses).toBeGreaterThan(150);
    // A failure says what the run saw (one in twenty-odd runs under load once lost a follower's last
    // presses): the sessions lost and why, the diverged nodes, registration, lag and the kernel's drops.
    const seen = {
      divergedNodes: r.divergedNodes,
      late: r.late,
      link: r.link,
      registration: { registered: r.registration.registered, maxMs: r.registration.maxMs },
      sync: r.sync,
      lag: { p99Ms: r.sim.lagP99Ms, maxMs: r.sim.lagMaxMs },
      kernel: r.loss.kernel,
      settleS: r.sim.settleS,
    };
    expect(r, JSON.stringify(seen)).toMatchObject({ lostForGood: 0, diverged: 0, regressions: 0 });
    // Losses show: some deliveries waited for the kernel's retransmission (RTO ≥ 200 ms) ...
    expect(r.sync.p99Ms).toBeGreaterThan(150);
    // ... and few for long. The kernel's RTO doubles from 200 ms: a segment lost three times running
    // waits 1.4 s, four times 3 s, five times 6.2 s, past the 5 s after which a delivery counts as
    // lost. The kernel's drops are not seeded, and of ~2,300 segments one dropped five times running
    // comes in a few runs in a hundred (one run here: 2 deliveries late, every one reflected), so
    // those are bounded, not forbidden; nothing lost for good is the claim.
    expect(r.lost, JSON.stringify(seen)).toBeLessThanOrEqual(Math.ceil(r.deliveries / 100));
    expect(namespaces()).not.toContain(net?.netns);
    // The namespace's removal takes its veth pair with it, in the kernel's own time (a work queue): on
    // a loaded host the host's end was still listed just after.
    await expect
      .poll(() => execFileSync("ip", ["-o", "link"], { encoding: "utf8" }))
      .not.toContain(`${net?.hostIf}@`);
    // A 12 s run, but 23 s on a quiet host (setting up the namespace, registering through the loss)
    // and 31 s beside another test run: the time is not what is tested.
  }, 90_000);
});

nonRoot("--loss-mode kernel without root", () => {
  it("refuses before anything starts, saying root is what is missing", async () => {
    expect(kernelLossProblem()).toContain("needs root");
    await expect(runFleet({ lossMode: "kernel", nodes: 2, durationS: 1 })).rejects.toThrow(
      /--loss-mode kernel needs root/,
    );
  });
});
