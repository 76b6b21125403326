// FleetRun.start checks its options first: a bad one is refused, named, before a broker is opened,
// a profile or pairing file read, or a worker thread started.
import { afterEach, describe, expect, it, vi } from "vitest";
import { OptionError } from "../../protocol/index.js";
import { limitForStarts } from "./start-limit.js";

const started = vi.hoisted(() => ({ brokers: 0, pools: 0 }));

vi.mock("../broker-host.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../broker-host.js")>();
  return {
    ...real,
    openBrokerHost: (...args: Parameters<typeof real.openBrokerHost>) => {
      started.brokers++;
      return real.openBrokerHost(...args);
    },
  };
});

vi.mock("../shards.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../shards.js")>();
  class CountedPool extends real.ShardPool {
    constructor(...args: ConstructorParameters<typeof real.ShardPool>) {
      started.pools++;
      super(...args);
    }
  }
  return { ...real, ShardPool: CountedPool };
});

const { FleetOptionsError } = await import("../options.js");
const { FleetRun } = await import("../run.js");

afterEach(() => {
  started.brokers = 0;
  started.pools = 0;
});

describe("FleetRun.start with bad options", () => {
  it.each([
    ["a WebSocket broker URL", { broker: "ws://127.0.0.1:8080" }, "options.broker: must be mqtt://host:port"],
    [
      "a broker URL without a usable port",
      { broker: "mqtt://127.0.0.1:0" },
      "options.broker: the port must be 1-65535",
    ],
    [
      "a password in the broker URL",
      { broker: "mqtt://u:pw@127.0.0.1:1883" },
      "options.broker: must not hold a user name or password",
    ],
    [
      "presses that end before they start",
      { durationS: 2, pressesEndEarlyS: 2 },
      "options.pressesEndEarlyS: must be below options.durationS",
    ],
    [
      "a fault entry of no known kind",
      { faults: [{ kind: "meteor", atS: 1 }] },
      "options.faults: faults[0].kind",
    ],
    [
      "an option of the old flag shape",
      { nodes: "2", rate: "6" },
      'options.nodes: must be a whole number from 1 to 20000 (200000 on virtual time), got "2"',
    ],
  ])("refuses %s before anything starts", async (_what, options, message) => {
    const start = FleetRun.start(options as never);
    await expect(start).rejects.toThrow(FleetOptionsError);
    await expect(start).rejects.toThrow(OptionError);
    await expect(start).rejects.toThrow(message);
    expect(started).toEqual({ brokers: 0, pools: 0 });
  });

  it(
    "starts the broker and the workers once the options are good (the counters do count)",
    async () => {
      const run = await FleetRun.start({
        nodes: 2,
        topology: "pairs",
        groupSize: 2,
        ratePerNodePerMin: 0,
        durationS: 1,
        settleS: 0,
        workers: 0,
        profile: "ideal",
      });
      expect(started).toEqual({ brokers: 1, pools: 1 });
      run.cut();
      await run.done;
      // One start of the broker thread and the run's pool.
    },
    limitForStarts(1),
  );
});
