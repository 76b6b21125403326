/**
 * A monitor beside a standalone twins service (twins/kept-sets.ts): the service keeps a set for a
 * node that is away, in its store alone; its page marked `set waits`, a monitor on the same broker
 * (its own short-lived twins, `view/twins-source.ts`) marked nothing. The service now tells it on a
 * retained `<prefix>/kept/<node>`, cleared once the node took the set, and the monitor marks it
 * while the service's presence stands behind it.
 */
import { afterEach, expect, it } from "vitest";
import type { CoreClient } from "../../node/mqtt-node.js";
import { NodeId } from "../../protocol/index.js";
import { startTwins, wallScheduler } from "../../twins/index.js";
import {
  FINDS_RETAINED,
  rawClient,
  startNode,
  startTestBroker,
  until,
  watchTwins,
} from "../../twins/test/helpers.js";
import { TwinsSource } from "../twins-source.js";

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

it("marks `set waits` on a node another twins service keeps a set for, and clears it once the node took it", async () => {
  const broker = await startTestBroker();
  open.push(broker);
  const service = watchTwins(await startTwins({ url: broker.url }));
  open.push(service);
  let a: CoreClient = await startNode(broker.url, "A");
  await until(() => service.get("A")?.presence === "online", "A online");
  await a.stop();
  await until(() => service.get("A")?.presence === "offline", "A offline");
  await service.set("A", true);
  expect(service.get("A")?.desired.pendingSet).toMatchObject({ on: true });

  // The monitor: a twins of its own on the same broker, its view as the console and page read it.
  const monitor = watchTwins(await startTwins({ url: broker.url }));
  open.push(monitor);
  const view = new TwinsSource(monitor, "monitor", wallScheduler);
  const waits = () => view.nodes().find((n) => n.id === "A")?.waits;
  await until(() => waits() === "set", "the monitor marks the set kept by the service");
  expect(monitor.keptSet?.("A")).toEqual({ on: true, by: service.clientId });
  expect(monitor.get("A")?.desired.pendingSet).toBeUndefined();
  // The detail says it too, and whose it is: it said nothing while the list marked it.
  expect(view.detail(NodeId("A"))?.keptElsewhere).toEqual({ on: true, by: service.clientId });

  a = await startNode(broker.url, "A", FINDS_RETAINED);
  open.push({ close: () => a.stop() });
  await until(() => a.state.on, "A took the kept set on its return");
  await until(() => monitor.keptSet?.("A") === undefined, "the kept set cleared");
  await a.stop();
  await until(() => monitor.get("A")?.presence === "offline", "A offline again");
  expect(waits()).toBeUndefined();
  expect(view.detail(NodeId("A"))?.keptElsewhere).toBeUndefined();
});

it("does not count a kept set whose service is gone", async () => {
  const broker = await startTestBroker();
  open.push(broker);
  const writer = await rawClient(broker.url);
  await writer.publishAsync("tf/status/B", "T1 0", { qos: 1, retain: true });
  await writer.publishAsync("tf/kept/B", "K1 1 tf-twins-gone", { qos: 1, retain: true });
  await writer.endAsync();
  const monitor = watchTwins(await startTwins({ url: broker.url }));
  open.push(monitor);
  const view = new TwinsSource(monitor, "monitor", wallScheduler);
  await until(() => monitor.get("B") !== undefined, "B seen");
  expect(monitor.keptSet?.("B")).toBeUndefined();
  expect(view.nodes().find((n) => n.id === "B")?.waits).toBeUndefined();
});
