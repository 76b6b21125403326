/**
 * `twinfleet forget`: a retired node's followers unpaired, its retained messages cleared, and the
 * running twins service told, which drops it from its view; an unknown or online node refused with
 * exit 1 (`--force` takes an online one), a bad id with exit 2.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startTwins } from "../../twins/index.js";
import {
  changed,
  FINDS_RETAINED,
  startNode,
  startTestBroker,
  type TestBroker,
  until,
  watchTwins,
} from "../../twins/test/helpers.js";
import { runMain } from "./run-main.js";

let broker: TestBroker;
const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const run = runMain;
async function node(id: string, opts = {}) {
  const n = await startNode(broker.url, id, opts);
  open.push({ close: () => n.stop() });
  return n;
}

describe("twinfleet forget", () => {
  it("forgets an offline node through the running twins service, and refuses what it should", async () => {
    broker = await startTestBroker();
    open.push(broker);
    const service = watchTwins(await startTwins({ url: broker.url }));
    open.push(service);
    service.on("twin-forgotten", changed);
    const a = await node("A");
    const b = await startNode(broker.url, "B");
    await until(() => service.get("B")?.presence === "online" && service.get("A") !== undefined, "A, B");
    await service.pair("A", "B");
    await until(() => service.get("A")?.pairing === "confirmed", "A follows B");

    expect(await run("forget", "bad/id", "--broker", broker.url)).toMatchObject({
      code: 2,
      err: expect.stringContaining('node "bad/id" is not a node id'),
    });
    expect(await run("forget", "nobody", "--broker", broker.url, "--wait", "200")).toMatchObject({
      code: 1,
      err: expect.stringMatching(/^twinfleet forget: no node nobody on the broker: .*\(check the id\)\n$/),
    });
    const busy = await run("forget", "B", "--broker", broker.url, "--wait", "300");
    expect(busy).toMatchObject({ code: 1, out: "" });
    expect(busy.err).toMatch(/^twinfleet forget: B is online: .*--force/);
    expect(service.get("B")).toBeDefined();

    await b.stop();
    await until(() => service.get("B")?.presence === "offline", "B offline");
    const done = await run("forget", "B", "--broker", broker.url, "--wait", "300");
    expect(done.code).toBe(0);
    expect(JSON.parse(done.out)).toEqual({
      forgotten: true,
      node: "B",
      unpaired: ["A"],
      cleared: ["tf/status/B", "tf/config/B", "tf/report/B"],
    });
    expect(done.err).toContain(`the running twins service (${service.clientId}) was told`);
    await until(() => service.get("B") === undefined, "the service forgot B");
    expect(service.get("A")?.desired.sources).toEqual([]);
    await until(() => a.state.sources.length === 0, "A no longer follows B");
    // Nothing of B is left retained: a board with its id boots as new.
    const fresh = await node("B", FINDS_RETAINED);
    expect(fresh.state).toMatchObject({ configVersion: 0, stamp: { counter: 0 } });

    // Online again: forced.
    const forced = await run("forget", "B", "--force", "--broker", broker.url, "--wait", "300");
    expect(forced.code).toBe(0);
  });

  it("forgets several nodes in one call, goes on past those it cannot forget and names them with exit 1", async () => {
    broker = await startTestBroker();
    open.push(broker);
    const service = watchTwins(await startTwins({ url: broker.url }));
    open.push(service);
    service.on("twin-forgotten", changed);
    for (const id of ["A", "B"]) await (await startNode(broker.url, id)).stop();
    await node("D");
    await until(
      () =>
        service.get("A")?.presence === "offline" &&
        service.get("B")?.presence === "offline" &&
        service.get("D")?.presence === "online",
      "A, B offline, D online",
    );

    // A bad id among them: a usage error before anything is done.
    expect(await run("forget", "A", "bad/id", "--broker", broker.url)).toMatchObject({ code: 2, out: "" });
    expect(service.get("A")).toBeDefined();

    const done = await run("forget", "A", "nobody", "D", "B", "A", "--broker", broker.url, "--wait", "300");
    expect(done.code).toBe(1);
    expect(
      done.out
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l).node),
    ).toEqual(["A", "B"]);
    expect(done.err).toContain(
      `twinfleet forget: 2 nodes forgotten (A, B); the running twins service (${service.clientId}) was told, and drops them from its view and its store\n`,
    );
    expect(done.err).toMatch(
      /twinfleet forget: 2 of 4 nodes not forgotten: nobody \(no node nobody on the broker: .*\(check the id\)\); D \(D is online: .*\)\n$/,
    );
    await until(
      () => service.get("A") === undefined && service.get("B") === undefined,
      "the service forgot A, B",
    );
    expect(service.get("D")?.presence).toBe("online");

    const forced = await run("forget", "D", "--force", "--broker", broker.url, "--wait", "300");
    expect(forced).toMatchObject({ code: 0 });
  });
});
