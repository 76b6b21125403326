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
});
