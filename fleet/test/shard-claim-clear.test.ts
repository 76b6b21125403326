/**
 * A shard's end clears its claim on its ids (fleet/fleet-claim.ts). A broker that takes the clear and
 * never acknowledges it must not hold the shard: before, its end waited for the PUBACK for ever,
 * deaf to a stop (a NATS cluster's member dropped the claim's connection so, and the shard ran on
 * with no socket open). Its stop, not taken within STOP_TOLD_MS, is said with the step it waits on.
 */
import { once } from "node:events";
import net from "node:net";
import mqttPacket from "mqtt-packet";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { type BrokerHost, openBrokerHost } from "../broker-host.js";
import { ShardRun } from "../shard-run.js";
import { idleShard } from "./idle-shard.js";

let broker: BrokerHost;
let proxy: net.Server;
const sockets: net.Socket[] = [];

/** In front of the broker: passes every packet on, but a claim connection's clear (an empty publish). */
async function swallowingClears(to: string): Promise<string> {
  const { port } = new URL(to);
  proxy = net.createServer((client) => {
    const upstream = net.connect(Number(port), "127.0.0.1");
    sockets.push(client, upstream);
    for (const s of [client, upstream]) s.on("error", () => {});
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    upstream.pipe(client);
    let claim = false;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on("packet", (p) => {
      if (p.cmd === "connect") claim = p.clientId.includes("-claim-");
      if (claim && p.cmd === "publish" && p.payload.length === 0) return;
      upstream.write(mqttPacket.generate(p));
    });
    client.on("data", (d) => parser.parse(d));
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  return `mqtt://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
}

beforeEach(async () => {
  broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise((r) => proxy.close(r));
  await broker.close();
});

it("a shard whose claim's clear is never acknowledged still ends, and says where its stop waited", async () => {
  const url = await swallowingClears(broker.url);
  const notes: string[] = [];
  const { run, done } = ShardRun.run(idleShard(url, 15), { index: 1, count: 2 }, new RealScheduler(), {
    note: (l) => {
      notes.push(l);
      if (l.includes("registered")) run.stop();
    },
  });
  const report = await done;
  expect(report.nodes).toEqual(["n-0000", "n-0002"]);
  expect(notes).toContain("still clearing its claim on its ids, 5 s after the stop");
}, 40_000);
