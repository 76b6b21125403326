/**
 * The broker's host name as a run's nodes hold it (fleet/broker-address.ts): looked up once, as a
 * board is given its broker's address, the nodes' connections going there whatever the name names
 * later; a name that moved told once per change, when the run's own connection is back. The lookup
 * is injected (`broker.test` is no name the system resolves); the servers listen on port 0.
 */
import { EventEmitter } from "node:events";
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { tcpWire } from "../../node/wire.js";
import { BrokerMoveWatch, nodesBrokerAt, pinBrokerAddress } from "../broker-address.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

/** A server on `host` that ends each connection it accepts, counting them; its port. */
async function listening(host: string, port = 0): Promise<{ port: number; accepted: () => number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return { port: (server.address() as { port: number }).port, accepted: () => n };
}

/** Opens one wire of `factory` and resolves with whether it was refused (true) or closed after connecting. */
const oneConnection = (factory: ReturnType<typeof tcpWire>) =>
  new Promise<boolean | undefined>((resolve) =>
    factory({ packet: () => {}, closed: (refused) => resolve(refused) }),
  );

/** A lookup whose answer the test changes, counting its calls. */
function movable(first: readonly string[]) {
  const state = { addresses: first, calls: 0, fails: false };
  const lookup = async (host: string) => {
    state.calls++;
    if (host !== "broker.test" || state.fails)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return state.addresses;
  };
  return { state, lookup };
}

describe("the nodes' broker address", () => {
  it("is looked up once, and the nodes' connections go there after the name has moved", async () => {
    const old = await listening("127.0.0.1");
    const moved = await listening("127.0.0.2", old.port);
    const { state, lookup } = movable(["127.0.0.1"]);
    const at = await pinBrokerAddress(`mqtt://broker.test:${old.port}`, lookup);
    expect(at).toEqual({ host: "broker.test", port: old.port, addresses: ["127.0.0.1"] });
    const wire = tcpWire(at.host, at.port, at.addresses);
    expect(await oneConnection(wire)).toBe(false);
    state.addresses = ["127.0.0.2"];
    // Before: each connection looked `broker.test` up (ENOTFOUND here; a moved name followed).
    expect(await oneConnection(wire)).toBe(false);
    expect([old.accepted(), moved.accepted(), state.calls]).toEqual([2, 0, 1]);
  });

  it("is tried at each address in turn, as Node tries a name's", async () => {
    const live = await listening("127.0.0.3");
    const at = await pinBrokerAddress(
      `mqtt://broker.test:${live.port}`,
      movable(["127.0.0.2", "127.0.0.3"]).lookup,
    );
    // Nothing listens on 127.0.0.2 at that port: refused there, connected at the next.
    expect(await oneConnection(tcpWire(at.host, at.port, at.addresses))).toBe(false);
    expect(live.accepted()).toBe(1);
  });

  it("is the URL's for an address, and a name that does not resolve is one line naming it", async () => {
    const { state, lookup } = movable([]);
    expect(await pinBrokerAddress("mqtt://10.0.0.5:1883", lookup)).toEqual({ host: "10.0.0.5", port: 1883 });
    expect(state.calls).toBe(0);
    await expect(pinBrokerAddress("mqtt://nope.test:1883", lookup)).rejects.toThrow(
      "the nodes cannot connect to the broker at mqtt://nope.test:1883: its name nope.test: host not found (ENOTFOUND)",
    );
    await expect(pinBrokerAddress("mqtt://broker.test:1883", lookup)).rejects.toThrow(
      "the nodes cannot connect to the broker at mqtt://broker.test:1883: its name broker.test has no address",
    );
  });
});

describe("a moved broker name", () => {
  it("is told when the run's connection is back, once per change, and not for a lookup that fails", async () => {
    const { state, lookup } = movable(["127.0.0.2"]);
    const connection = new EventEmitter();
    const lines: string[] = [];
    const info: string[] = [];
    const at = await nodesBrokerAt(
      "mqtt://broker.test:1883",
      [connection],
      { info: (l) => info.push(l), warn: (l) => lines.push(l) },
      lookup,
    );
    expect(info).toEqual([
      "the nodes connect to the broker at 127.0.0.2:1883, what broker.test names now, and look the name up no more, as boards given the broker's address (TF_BROKER_IP); a broker moved under the name is not followed",
    ]);
    let clock = 1_000;
    const watch = new BrokerMoveWatch(
      { host: at.host, port: at.port, addresses: ["127.0.0.2"] },
      [connection],
      (l) => lines.push(l),
      lookup,
      () => clock,
    );
    expect(watch.report(500)).toBeUndefined();
    const back = async () => {
      connection.emit("broker", false);
      connection.emit("broker", true);
      await watch.checking;
    };
    await back(); // the same address: nothing
    state.addresses = ["127.0.0.3"];
    state.fails = true;
    await back(); // the resolver failing: the run's connection says so
    state.fails = false;
    clock = 3_500;
    await back();
    await back(); // told already
    state.addresses = ["127.0.0.2"];
    clock = 9_000;
    await back();
    // Both watches (nodesBrokerAt's and this one) told each change.
    const moved =
      "the broker's name broker.test now names 127.0.0.3:1883, but the nodes still connect to 127.0.0.2:1883, what it named when the run started, as boards given the broker's address do: they will not reach a broker moved there (start the run again to move them)";
    const again = "the broker's name broker.test names 127.0.0.2:1883 again, where the nodes connect";
    expect(lines).toEqual([moved, moved, again, again]);
    // The report's `brokerMoved`, its times from the presses' start (500 on the run's clock).
    expect(watch.report(500)).toEqual({
      host: "broker.test",
      nodesAt: ["127.0.0.2:1883"],
      moves: [
        { atMs: 3_000, names: ["127.0.0.3:1883"] },
        { atMs: 8_500, names: ["127.0.0.2:1883"] },
      ],
    });
  });

  it("is not watched for an address", () => {
    expect(
      BrokerMoveWatch.of({ host: "10.0.0.5", port: 1883 }, [new EventEmitter()], () => {}),
    ).toBeUndefined();
  });
});
