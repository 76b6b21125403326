// The twins service against Mosquitto, with protocol-exact nodes (CoreClient): pairing an online
// and an offline node, set, query, and presence from the nodes' wills.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CoreClient } from "../../node/mqtt-node.js";
import type { Twins } from "../../twins/index.js";
import { FINDS_RETAINED, Fixtures, type NodeOptions } from "../../twins/test/helpers.js";
import { type Mosquitto, startMosquitto } from "../mosquitto.js";
import { retained, startNode, until } from "./helpers.js";

let broker: Mosquitto;
const fx = new Fixtures();
beforeAll(async () => {
  broker = await startMosquitto();
  fx.url = broker.url;
});
afterEach(() => fx.close());
afterAll(async () => {
  await broker?.close();
});

const twins = (): Promise<Twins> => fx.twins();
const node = async (id: string, opts: NodeOptions = {}): Promise<CoreClient> =>
  fx.track(await startNode(broker.url, id, opts), (n) => n.stop());
async function online(t: Twins, ...ids: string[]): Promise<void> {
  await until(() => ids.every((id) => t.get(id)?.presence === "online" && t.get(id)?.kind), `${ids} online`);
}

describe("the twins service on Mosquitto", () => {
  it("pairs two online nodes, and a press on the source reaches the follower", async () => {
    const t = await twins();
    const [a, b] = [await node("pa-a"), await node("pa-b")];
    await online(t, "pa-a", "pa-b");
    await t.pair("pa-b", "pa-a");
    await until(
      () => t.get("pa-b")?.pairingInSync === true && b.state.sources.some((s) => s === "pa-a"),
      "pa-b follows",
    );
    expect(t.get("pa-b")?.config).toEqual({ version: 1, sources: ["pa-a"] });
    expect(t.get("pa-a")?.followers).toEqual(["pa-b"]);
    a.press();
    await until(() => b.state.on, "pa-b on");
    expect(b.state.stamp).toEqual({ counter: 1, origin: "pa-a" });
    await until(() => t.get("pa-b")?.reported?.stamp.origin === "pa-a", "pa-b's report");
    expect(t.convergence()).toMatchObject({ inSync: 1 });
  });

  it("pairs an offline node through its retained config, which it adopts when it boots", async () => {
    const t = await twins();
    await node("po-src");
    await online(t, "po-src");
    await t.pair("po-f", "po-src");
    expect((await retained(broker.url, "tf/config/po-f")).get("tf/config/po-f")?.payload).toBe("C1 1 po-src");
    // Its first boot: the config alone is retained, and must arrive within the grace.
    const f = await node("po-f", FINDS_RETAINED);
    expect(f.state.sources).toEqual(["po-src"]);
    await until(() => t.get("po-f")?.pairingInSync === true, "po-f's config in sync");
  });

  it("set reaches the node with the highest counter seen", async () => {
    const t = await twins();
    const [a, b] = [await node("st-a"), await node("st-b")];
    await online(t, "st-a", "st-b");
    a.press();
    a.press();
    a.press();
    await until(() => t.get("st-a")?.reported?.stamp.counter === 3, "st-a's presses reported");
    expect(await t.set("st-b", true)).toBeGreaterThanOrEqual(3);
    await until(() => b.state.on && t.get("st-b")?.reported?.on === true, "st-b on and reported");
    expect(b.state.stamp.counter).toBeGreaterThan(3);
    expect(b.state.stamp.origin).toBe("st-b");
  });

  it("query brings back every live node's register and report", async () => {
    await node("q-a");
    await node("q-b");
    // A service started after the nodes learns their registers from the query it sends on connect.
    const t = await twins();
    await online(t, "q-a", "q-b");
    expect(t.get("q-a")).toMatchObject({ kind: "sim", profile: "uno-w5100", firmware: "1.0.0" });
    const registered: string[] = [];
    t.on("twin-registered", (twin) => registered.push(twin.id));
    await t.query();
    await until(() => registered.includes("q-a") && registered.includes("q-b"), "registers after Q1");
  });

  it("sees a node go offline through its will and come back when it reboots", async () => {
    const t = await twins();
    let n = await node("pr-a");
    await online(t, "pr-a");
    await n.powerOff(); // no DISCONNECT: the broker publishes the will
    await until(() => t.get("pr-a")?.presence === "offline", "pr-a offline");
    n = await node("pr-a");
    await online(t, "pr-a");
    expect(t.badInput().total).toBe(0);
  });
});
