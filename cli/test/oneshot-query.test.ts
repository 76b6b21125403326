/**
 * Which one-shot commands make the whole fleet answer (docs/twins.md, "Command line"): `set`, `pair`,
 * `unpair` and `forget` act on what the broker retains and send no query; `nodes`, which lists every
 * node's kind, profile and firmware (only a register tells them), sends one. Each command used to
 * query, and a `set` of one node beside 2,000 had all 2,000 register and report.
 */
import type { MqttClient } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import {
  changed,
  rawClient,
  startNode,
  startTestBroker,
  type TestBroker,
  until,
} from "../../twins/test/helpers.js";
import { runMain as run } from "./run-main.js";

let broker: TestBroker;
const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

/** Counts the queries and registers on the broker, in the order the broker delivered them. */
async function watchQueries(url: string): Promise<{ queries(): Promise<number>; registers: () => number }> {
  const c: MqttClient = await rawClient(url);
  open.push({ close: () => c.endAsync() });
  let queries = 0;
  let registers = 0;
  let fences = 0;
  c.on("message", (topic) => {
    if (topic === "tf/query") queries++;
    else if (topic.startsWith("tf/register/")) registers++;
    else if (topic === "fence/oneshot") fences++;
    changed();
  });
  await c.subscribeAsync(["tf/query", "tf/register/+", "fence/oneshot"], { qos: 1 });
  return {
    registers: () => registers,
    // A marker published after the command comes back after anything the broker sent before it.
    async queries() {
      const want = fences + 1;
      await c.publishAsync("fence/oneshot", "x", { qos: 1 });
      await until(() => fences >= want, "the fence back");
      return queries;
    },
  };
}

describe("one-shot commands and the query", () => {
  it("set, pair, unpair and forget send no query; what they must know comes from the retained state", async () => {
    broker = await startTestBroker();
    open.push(broker);
    const a = await startNode(broker.url, "A");
    open.push({ close: () => a.stop() });
    const b = await startNode(broker.url, "B");
    open.push({ close: () => b.stop() });
    // A node gone, whose retained report holds the fleet's highest counter.
    const writer = await rawClient(broker.url);
    await writer.publishAsync("tf/status/far", "T1 0", { qos: 1, retain: true });
    await writer.publishAsync("tf/report/far", "R1 1 41 far", { qos: 1, retain: true });
    await writer.endAsync();
    const watch = await watchQueries(broker.url);
    const url = broker.url;

    const set = await run("set", "A", "on", "--broker", url, "--wait", "100");
    expect(set.code).toBe(0);
    // The highest counter, from the retained reports: the set still outranks every stamp.
    expect(JSON.parse(set.out)).toEqual({ node: "A", on: true, counter: 41, confirmed: true });
    expect(await watch.queries()).toBe(0);

    const paired = await run("pair", "A", "B", "--broker", url, "--wait", "100");
    expect(JSON.parse(paired.out)).toMatchObject({ follows: ["B"], confirmed: true, pending: false });
    const unpaired = await run("unpair", "A", "B", "--broker", url, "--wait", "100");
    expect(JSON.parse(unpaired.out)).toMatchObject({ follows: [], confirmed: true, pending: false });
    // Online by its retained status: refused without --force, as when it answered a query.
    const online = await run("forget", "B", "--broker", url, "--wait", "100");
    expect(online.code).toBe(1);
    expect(online.err).toContain("B is online");
    const gone = await run("forget", "far", "--broker", url, "--wait", "100");
    expect(gone.code).toBe(0);
    expect(await watch.queries()).toBe(0);
    expect(watch.registers()).toBe(0);

    // The list names each node's kind: the one command that asks the fleet.
    const nodes = await run("nodes", "--broker", url, "--wait", "300");
    expect(nodes.code).toBe(0);
    const listed = JSON.parse(nodes.out) as { id: string; kind?: string; presence: string }[];
    expect(listed.map((n) => [n.id, n.kind, n.presence])).toEqual([
      ["A", "sim", "online"],
      ["B", "sim", "online"],
    ]);
    expect(await watch.queries()).toBe(1);
  });
});
