/**
 * A run that joined a twins service already on the broker says when that service left mid-run and
 * when a controller was back (the same process, or one started in its place): logged at once, in the
 * report's `joinedTwins` and in the summary. Before, a controller killed during a run went unsaid.
 * A run with its own service says the same of another started beside it (`ownTwins`): before, only
 * its log did.
 */
import { EventEmitter } from "node:events";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BrokerHost, openBrokerHost } from "../../fleet/broker-host.js";
import { JoinedWatch } from "../../fleet/joined-watch.js";
import { OwnBesideWatch } from "../../fleet/own-beside.js";
import { requirementFailures } from "../../fleet/report.js";
import { FleetRun, runFleet } from "../../fleet/run.js";
import { FakeScheduler, RealScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { startTwins, type Twins, type TwinsServiceInfo } from "../../twins/index.js";
import { summary } from "../sim-summary.js";

class FakeClient extends EventEmitter {
  connected = true;
  readonly subscribed: string[] = [];
  subscribe(topic: string): void {
    this.subscribed.push(topic);
  }
  deliver(id: string, payload: string): void {
    this.emit("message", `tf/control/${id}`, Buffer.from(payload, "latin1"));
  }
}

function watch(since = 1000) {
  const client = new FakeClient();
  const sched = new FakeScheduler();
  const lines: string[] = [];
  const w = new JoinedWatch(client, Prefix("tf"), { clientId: "ctl-a", since }, sched, {
    warn: (l) => lines.push(`WARN ${l}`),
    info: (l) => lines.push(`INFO ${l}`),
  });
  return { client, sched, lines, w };
}

/**
 * A broker of its own for each test of the describe this is called in, and the twins services the
 * test started there, closed after it.
 */
function brokerPerTest(): { readonly broker: BrokerHost; readonly services: Twins[] } {
  let broker: BrokerHost | undefined;
  const services: Twins[] = [];
  beforeEach(async () => {
    broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
  });
  afterEach(async () => {
    for (const t of services.splice(0)) await t.close().catch(() => {});
    await broker?.close();
  });
  return {
    get broker() {
      if (broker === undefined) throw new Error("the broker starts before each test");
      return broker;
    },
    services,
  };
}

describe("JoinedWatch", () => {
  it("subscribes to every controller's presence, again on each connect", () => {
    const { client } = watch();
    client.emit("connect");
    expect(client.subscribed).toEqual(["tf/control/+", "tf/control/+"]);
  });

  it("tells the joined service leaving and a new one in its place", () => {
    const { client, sched, lines, w } = watch();
    client.deliver("ctl-a", "P1 1000"); // the retained presence, replayed at subscribing: nothing
    sched.advance(4000);
    client.deliver("ctl-a", "");
    sched.advance(5000);
    client.deliver("ctl-b", "P1 9000");
    expect(w.report(1000)).toEqual({
      clientId: "ctl-a",
      left: [{ clientId: "ctl-a", atMs: 3000, backAtMs: 8000, backAs: "ctl-b", restarted: true }],
    });
    expect(lines[0]).toMatch(/^WARN the twins service ctl-a this run joined has left the broker/);
    // At warn as the absence: a log read from warn up (the run's default) told only the absence.
    expect(lines[1]).toBe("WARN the fleet has a controller again: the twins service ctl-b (restarted)");
  });

  it("names the service that left each time: the joined one, then the one in its place", async () => {
    // A `twinfleet twins` killed and started again twice (each start another client id).
    const { client, sched, lines, w } = watch();
    client.deliver("ctl-a", "P1 1000");
    sched.advance(4000);
    client.deliver("ctl-a", "");
    sched.advance(1000);
    client.deliver("ctl-b", "P1 5000");
    sched.advance(4000);
    client.deliver("ctl-b", "");
    sched.advance(1000);
    client.deliver("ctl-c", "P1 10000");
    const joined = w.report(1000);
    expect(joined.left).toEqual([
      { clientId: "ctl-a", atMs: 3000, backAtMs: 4000, backAs: "ctl-b", restarted: true },
      { clientId: "ctl-b", atMs: 8000, backAtMs: 9000, backAs: "ctl-c", restarted: true },
    ]);
    expect(lines).toEqual([
      expect.stringMatching(/^WARN the twins service ctl-a this run joined has left the broker/),
      "WARN the fleet has a controller again: the twins service ctl-b (restarted)",
      expect.stringMatching(/^WARN the twins service ctl-b controlling the fleet has left the broker/),
      "WARN the fleet has a controller again: the twins service ctl-c (restarted)",
    ]);
    // The summary said `ctl-a (joined) at 8.0 s`, of a service gone since 3.0 s.
    const run = await FleetRun.start({
      clock: "virtual",
      nodes: 2,
      topology: "pairs",
      groupSize: 2,
      ratePerNodePerMin: 0,
      durationS: 1,
      settleS: 0,
      profile: "ideal",
    });
    const text = summary({ ...(await run.done), joinedTwins: joined });
    expect(text).toContain("twins left     ctl-a (joined) at 3.0 s, back at 4.0 s as ctl-b (restarted)\n");
    expect(text).toContain("       twins left     ctl-b at 8.0 s, back at 9.0 s as ctl-c (restarted)");
  }, 60_000);

  it("keeps an absence open to the end, and counts the same process back as not restarted", () => {
    const { client, sched, w } = watch();
    client.deliver("ctl-a", "");
    client.deliver("ctl-a", ""); // the clear again (a resubscribe): one absence
    expect(w.report(0).left).toEqual([{ clientId: "ctl-a", atMs: 0 }]);
    sched.advance(2000);
    client.deliver("ctl-a", "P1 1000"); // back from a cut path: the same start time
    expect(w.report(0).left).toEqual([
      { clientId: "ctl-a", atMs: 0, backAtMs: 2000, backAs: "ctl-a", restarted: false },
    ]);
  });

  it("leaves no absence while another controller is on the broker", () => {
    const { client, w } = watch();
    client.deliver("ctl-b", "P1 5");
    client.deliver("ctl-a", "");
    expect(w.report(0).left).toEqual([]);
    client.deliver("ctl-b", "");
    expect(w.report(0).left).toHaveLength(1);
  });

  it("tells a restart whose clear it never saw (another start time), and ignores what is no presence", () => {
    const { client, sched, w } = watch();
    client.deliver("ctl-a", "hello");
    sched.advance(700);
    client.deliver("ctl-a", "P1 2000");
    expect(w.report(0).left).toEqual([
      { clientId: "ctl-a", atMs: 700, backAtMs: 700, backAs: "ctl-a", restarted: true },
    ]);
  });
});

describe("JoinedWatch, two controllers", () => {
  it("tells a controller beside the joined one once, at the start or when it comes", () => {
    const { client, sched, lines, w } = watch();
    client.deliver("ctl-a", "P1 1000");
    client.deliver("ctl-b", "P1 500"); // replayed at subscribing: there before the run
    sched.advance(3000);
    client.deliver("ctl-b", "P1 500"); // a resubscribe: told once
    client.deliver("ctl-c", "P1 3500"); // a laptop's, mid-run
    sched.advance(1000);
    client.deliver("ctl-c", ""); // stopped again
    expect(w.report(1000)).toEqual({
      clientId: "ctl-a",
      left: [],
      beside: [
        { clientId: "ctl-b", atMs: -1000, with: ["ctl-a"] },
        { clientId: "ctl-c", atMs: 2000, with: ["ctl-a", "ctl-b"], leftAtMs: 3000 },
      ],
    });
    expect(lines).toEqual([
      "WARN another twins service controls the fleet: ctl-b, beside ctl-a: each sends its own pairings and sets, and they undo each other's; the run's re-pairings and sets may be either's",
      "WARN another twins service controls the fleet: ctl-c, beside ctl-a, ctl-b: each sends its own pairings and sets, and they undo each other's; the run's re-pairings and sets may be either's",
    ]);
  });
});

describe("a run joined to a twins service that leaves", () => {
  const fx = brokerPerTest();

  it("reports it, and the one started in its place", async () => {
    const logger = pino({ level: "silent" });
    fx.services.push(await startTwins({ url: fx.broker.url, clientId: "ctl-a", logger }));
    const run = await FleetRun.start({
      broker: fx.broker.url,
      nodes: 4,
      topology: "pairs",
      groupSize: 2,
      ratePerNodePerMin: 0,
      durationS: 3,
      settleS: 0.5,
      workers: 1,
      profile: "ideal",
    });
    expect(run.joined?.clientId).toBe("ctl-a");
    await new Promise<void>((resolve) => run.once("phase", () => resolve()));
    await fx.services[0]?.close();
    fx.services.push(await startTwins({ url: fx.broker.url, clientId: "ctl-b", logger }));
    const r = await run.done;
    expect(r.scenario.twins).toBe("joined");
    expect(r.joinedTwins?.clientId).toBe("ctl-a");
    expect(r.joinedTwins?.left).toMatchObject([{ backAs: "ctl-b", restarted: true }]);
    expect(summary(r)).toMatch(
      /twins left {5}ctl-a \(joined\) (at \d+\.\d s|in the boot, \d+\.\d s before the presses' start), back (at \d+\.\d s|in the boot, \d+\.\d s before the presses' start) as ctl-b \(restarted\)/,
    );
  }, 60_000);

  it("says a second controller was on the fleet, in its log, its report and its summary", async () => {
    const logger = pino({ level: "silent" });
    fx.services.push(await startTwins({ url: fx.broker.url, clientId: "ctl-a", logger }));
    fx.services.push(await startTwins({ url: fx.broker.url, clientId: "ctl-b", logger }));
    const lines: string[] = [];
    const runLogger = pino({ level: "warn" }, { write: (l: string) => void lines.push(JSON.parse(l).msg) });
    const run = await FleetRun.start(
      {
        broker: fx.broker.url,
        nodes: 2,
        topology: "pairs",
        groupSize: 2,
        ratePerNodePerMin: 0,
        durationS: 1,
        settleS: 0.5,
        workers: 1,
        profile: "ideal",
      },
      runLogger,
    );
    expect(run.joined?.clientId).toBe("ctl-a");
    const r = await run.done;
    expect(
      lines.some((l) =>
        /^2 twins services control the fleet on .* \(ctl-a, ctl-b\): .*this run joins ctl-a$/.test(l),
      ),
    ).toBe(true);
    expect(r.joinedTwins?.beside).toMatchObject([{ clientId: "ctl-b" }]);
    expect(summary(r)).toMatch(
      /twins beside {3}ctl-b from the start: another controller beside ctl-a \(joined\)/,
    );
  }, 60_000);
});

describe("a run joined to a twins service that holds fewer nodes than the fleet", () => {
  const fx = brokerPerTest();
  const options = (broker: string) => ({
    broker,
    nodes: 4,
    topology: "pairs" as const,
    groupSize: 2,
    ratePerNodePerMin: 0,
    durationS: 1,
    settleS: 0.5,
    workers: 1,
    profile: "ideal",
  });

  it("names the nodes it holds no twin of and its --max-nodes, and fails the requirements", async () => {
    const logger = pino({ level: "silent" });
    fx.services.push(await startTwins({ url: fx.broker.url, clientId: "ctl-a", maxNodes: 2, logger }));
    const r = await runFleet(options(fx.broker.url));
    expect(r.scenario.twins).toBe("joined");
    expect(r.joinedTwins?.held).toEqual({
      clientId: "ctl-a",
      asked: 4,
      answered: 4,
      notHeld: 2,
      notHeldIds: ["n-0002", "n-0003"],
      maxNodes: 2,
      twins: 2,
    });
    const line =
      "2 of the fleet's 4 nodes have no twin in the twins service ctl-a, which keeps at most 2 twins (--max-nodes 2) and holds 2: n-0002, n-0003 are neither shown nor controlled by it";
    expect(summary(r)).toContain(`  FAIL twins hold     ${line}`);
    expect(requirementFailures(r)).toContain(line);
  }, 60_000);

  it("warns of them soon after the fleet registered, before its judgement at the end", async () => {
    const warned: string[] = [];
    const logger = pino({ level: "warn" }, { write: (l: string) => warned.push(JSON.parse(l).msg) });
    fx.services.push(
      await startTwins({
        url: fx.broker.url,
        clientId: "ctl-a",
        maxNodes: 2,
        logger: pino({ level: "silent" }),
      }),
    );
    const r = await runFleet(options(fx.broker.url), logger);
    const early = warned.findIndex((l) => l.startsWith("2 of the 4 nodes registered have no twin"));
    expect(warned[early]).toBe(
      "2 of the 4 nodes registered have no twin in the twins service ctl-a, which keeps at most 2 twins (--max-nodes 2) and holds 2: n-0002, n-0003 are neither shown nor controlled by it, and fail this run at its end; to fix it, stop the run (Ctrl-C) and start the service with --max-nodes above the fleet's 4",
    );
    expect(early).toBeLessThan(warned.findIndex((l) => l.startsWith("2 of the fleet's 4 nodes")));
    expect(r.joinedTwins?.held?.notHeld).toBe(2); // the judgement stays the end's
  }, 60_000);

  it("holding them all, says nothing more than before", async () => {
    const logger = pino({ level: "silent" });
    fx.services.push(await startTwins({ url: fx.broker.url, clientId: "ctl-a", logger }));
    const warned: string[] = [];
    const runLog = pino({ level: "warn" }, { write: (l: string) => warned.push(JSON.parse(l).msg) });
    const r = await runFleet(options(fx.broker.url), runLog);
    expect(warned.filter((l) => l.includes("no twin"))).toEqual([]);
    expect(r.joinedTwins?.held).toMatchObject({ asked: 4, answered: 4, notHeld: 0, maxNodes: 200_000 });
    expect(summary(r)).not.toMatch(/twins hold/);
    // Only the service's hold is judged here: a loaded host may fail the run's own lag figure.
    expect(requirementFailures(r).filter((f) => /twin/.test(f))).toEqual([]);
  }, 60_000);
});

describe("OwnBesideWatch", () => {
  /** A stand-in for the run's own twins service: its client id, its `other-services` event and list. */
  class FakeOwn extends EventEmitter {
    readonly clientId = "own";
    otherServices: TwinsServiceInfo[] = [];
    tell(...ids: string[]): void {
      this.otherServices = ids.map((clientId) => ({ clientId, since: 1 }));
      this.emit("other-services", this.otherServices);
    }
  }

  it("reports nothing while the run's service is alone: the report stays as it was", () => {
    const own = new FakeOwn();
    const w = new OwnBesideWatch(own, new FakeScheduler());
    own.tell();
    expect(w.report(0)).toBeUndefined();
  });

  it("lists each other service once: when first told, when last told gone", () => {
    const own = new FakeOwn();
    own.otherServices = [{ clientId: "ctl-b", since: 1 }]; // told before the watch began
    const sched = new FakeScheduler();
    const w = new OwnBesideWatch(own, sched);
    sched.advance(3000);
    own.tell("ctl-b", "ctl-c");
    sched.advance(1000);
    own.tell("ctl-b");
    sched.advance(1000);
    own.tell();
    sched.advance(1000);
    own.tell("ctl-b"); // back: it stayed to the end
    expect(w.report(1000)).toEqual({
      clientId: "own",
      beside: [
        { clientId: "ctl-b", atMs: -1000 },
        { clientId: "ctl-c", atMs: 2000, leftAtMs: 3000 },
      ],
    });
  });
});

describe("a run with its own twins service, another started beside it mid-run", () => {
  const fx = brokerPerTest();

  it("says so in its report and its summary, and when it left", async () => {
    const run = await FleetRun.start({
      broker: fx.broker.url,
      nodes: 2,
      topology: "pairs",
      groupSize: 2,
      ratePerNodePerMin: 0,
      durationS: 30,
      settleS: 0.5,
      workers: 1,
      profile: "ideal",
    });
    expect(run.joined).toBeUndefined();
    await new Promise<void>((resolve) => run.once("phase", () => resolve()));
    const logger = pino({ level: "silent" });
    const other = await startTwins({ url: fx.broker.url, clientId: "ctl-b", logger });
    fx.services.push(other);
    const until = async (what: string, cond: () => boolean) => {
      const end = Date.now() + 20_000;
      while (!cond()) {
        if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until("the run's service sees ctl-b", () => run.twins.otherServices.length === 1);
    await other.close();
    await until("the run's service sees ctl-b gone", () => run.twins.otherServices.length === 0);
    run.stop();
    const r = await run.done;
    expect(r.scenario.twins).toBe("own");
    expect(r.joinedTwins).toBeUndefined();
    expect(r.ownTwins?.clientId).toBe(run.twins.clientId);
    expect(r.ownTwins?.beside).toMatchObject([{ clientId: "ctl-b" }]);
    expect(r.ownTwins?.beside[0]?.leftAtMs).toBeGreaterThanOrEqual(r.ownTwins?.beside[0]?.atMs ?? 0);
    expect(summary(r)).toMatch(
      /twins beside {3}ctl-b from \d+\.\d s( before the presses' start \(in the boot\))? to \d+\.\d s( before the presses' start \(in the boot\))?: another controller beside \S+ \(this run's\)/,
    );
  }, 60_000);
});
