/**
 * A run's claim on its ids is cleared at its end (fleet/fleet-claim.ts). A broker that takes the
 * claim and then neither acknowledges the clear nor keeps the connection (seen of a NATS cluster's
 * member in the cluster shards test: the shard's end then waited for ever, deaf to SIGTERM, with
 * `still clearing its claim on its ids` its last line) must not hold the end: the claim's close
 * settles, and ends its connection without a DISCONNECT so that the broker's copy of the claim's
 * will clears it.
 */
import { once } from "node:events";
import net from "node:net";
import mqttPacket from "mqtt-packet";
import { afterEach, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { claimFleet } from "../fleet-claim.js";

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** Passes the claim back and acknowledges it; the clear (an empty payload) gets `onClear`'s answer. */
async function broker(onClear: "drop" | "silent") {
  const sockets: net.Socket[] = [];
  let disconnects = 0;
  const srv = net.createServer((s) => {
    sockets.push(s);
    s.on("error", () => {});
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const send = (p: mqttPacket.Packet) => s.write(mqttPacket.generate(p));
    parser.on("packet", (p) => {
      if (p.cmd === "connect") send({ cmd: "connack", returnCode: 0, sessionPresent: false });
      else if (p.cmd === "pingreq") send({ cmd: "pingresp" });
      else if (p.cmd === "disconnect") disconnects++;
      else if (p.cmd === "subscribe")
        send({ cmd: "suback", messageId: p.messageId, granted: p.subscriptions.map(() => 0 as const) });
      else if (p.cmd === "publish" && p.payload.length > 0) {
        send({ cmd: "puback", messageId: p.messageId });
        send({ cmd: "publish", topic: p.topic, payload: p.payload, qos: 0, retain: false, dup: false });
      } else if (p.cmd === "publish" && onClear === "drop") s.destroy();
    });
    s.on("data", (d) => parser.parse(d));
  });
  servers.push(srv);
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address() as net.AddressInfo;
  return { url: `mqtt://127.0.0.1:${port}`, sockets, disconnects: () => disconnects };
}

const claimOn = (url: string) =>
  claimFleet(
    { url, prefix: Prefix("tf"), ids: ["n-0000", "n-0001"] as never, keepaliveS: 60, waitMs: 1000 },
    new RealScheduler(),
    () => {},
  );

it("settles a claim's close whose clear the broker drops with the connection", async () => {
  const b = await broker("drop");
  const claim = await claimOn(b.url);
  // Before: for ever (MQTT.js, not reconnecting, never settles the publish of a connection gone).
  await claim.close();
  expect(b.disconnects()).toBe(0);
}, 15_000);

it("ends a claim whose clear is never acknowledged without a DISCONNECT, so its will clears it", async () => {
  const b = await broker("silent");
  const claim = await claimOn(b.url);
  await claim.close(); // after its CLEAR_WAIT_MS
  expect(b.disconnects()).toBe(0);
  for (const s of b.sockets) s.destroy();
}, 15_000);
