/**
 * The simulated run's console source and its faults, on a real two-node run: a power outage from the
 * console is in the header's list while it lasts and each of its `fault:` lines shows once; a broker
 * restart against someone else's broker comes back as an error line, not an exception; a run that
 * joined a twins service on the broker offers no command its passive service cannot send.
 */
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import type { FleetOptions } from "../../fleet/options.js";
import { FleetRun } from "../../fleet/run.js";
import { startTwins } from "../../twins/index.js";
import { SimSource } from "../sim-source.js";
import type { LogLine } from "../source.js";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function watched(raw: FleetOptions): Promise<{ source: SimSource; lines: LogLine[] }> {
  const opts: FleetOptions = {
    nodes: 2,
    topology: "pairs",
    groupSize: 2,
    ratePerNodePerMin: 0,
    durationS: 30,
    settleS: 0,
    workers: 1,
    profile: "ideal",
    ...raw,
  };
  const run = await FleetRun.start(opts);
  const source = new SimSource(run);
  cleanup.push(async () => {
    source.close();
    run.stop();
    await run.done;
  });
  const lines: LogLine[] = [];
  source.on("log", (l) => lines.push(l));
  await new Promise<void>((resolve) => run.on("phase", (p) => p === "press" && resolve()));
  return { source, lines };
}

function faultEnded(source: SimSource): Promise<void> {
  return new Promise((resolve) => {
    const off = source.on("changed", () => {
      if (source.faults().length === 0) {
        off();
        resolve();
      }
    });
  });
}

const count = (lines: readonly LogLine[], text: string) => lines.filter((l) => l.text === text).length;

describe("SimSource faults", () => {
  it("a power outage is in progress until it ends, and says so once at each end", async () => {
    const { source, lines } = await watched({});
    expect(source.capabilities).toMatchObject({ restartBroker: true, powerOutage: true });
    expect(source.faults()).toEqual([]);
    const before = source.now();
    await source.powerOutage(1);
    const [fault, ...more] = source.faults();
    expect(more).toEqual([]);
    expect(fault?.what).toBe("power-outage 2 nodes");
    expect(fault?.since).toBeGreaterThanOrEqual(before);
    expect(fault?.since).toBeLessThanOrEqual(source.now());
    await faultEnded(source);
    expect(count(lines, "fault: power-outage (2 nodes) started")).toBe(1);
    expect(count(lines, "fault: power-outage ended")).toBe(1);
    // The run's own lines come after the summaries of the bursts under way: the registrations' came
    // after the fault's start, and with the outage's offline lines pushed it out of the console's
    // 7-line event box before its end was written.
    const texts = lines.map((l) => l.text);
    const registered = texts.findLastIndex((t) => / registered/.test(t));
    expect(registered, texts.join("\n")).toBeGreaterThanOrEqual(0);
    expect(registered, texts.join("\n")).toBeLessThan(texts.indexOf("fault: power-outage (2 nodes) started"));
  }, 30_000);

  it("a broker restart on someone else's broker fails as an error line, and the run goes on", async () => {
    const broker: RunningBroker = await startBroker({ host: "127.0.0.1", port: 0 });
    cleanup.push(() => broker.close());
    const { source, lines } = await watched({ broker: broker.url });
    await source.restartBroker(5);
    await faultEnded(source);
    const failed = lines.filter((l) => l.text.startsWith("fault: broker-restart failed"));
    expect(failed).toHaveLength(1);
    expect(failed[0]?.level).toBe("error");
    expect(failed[0]?.text).toContain("is not the fleet's own");
    expect(count(lines, "fault: broker-restart started")).toBe(1);
    expect(source.nodes()).toHaveLength(2);
  }, 30_000);

  it("a run that joined a twins service offers no set, pair, unpair or query, which its own cannot send", async () => {
    const broker: RunningBroker = await startBroker({ host: "127.0.0.1", port: 0 });
    cleanup.push(() => broker.close());
    const controller = await startTwins({
      url: broker.url,
      clientId: "ctl-a",
      logger: pino({ level: "silent" }),
    });
    cleanup.push(() => controller.close());
    const { source } = await watched({ broker: broker.url });
    expect(source.capabilities).toMatchObject({ set: false, pair: false, unpair: false, query: false });
    expect(source.capabilities).toMatchObject({ press: true, powerCycle: true, setLoss: true });
  }, 30_000);
});
