/**
 * A shard (or run) stopped (Ctrl-C, SIGTERM) while a step of its start waits on a broker that took
 * the connection and then answers nothing more (its pings answered): the clock probe's subscription,
 * `--fresh`'s clearing of its nodes' retained messages, its watch of the fleet's topics, the write of
 * its nodes' pairing configs. Each ends at once, `stopped while <step>: nothing ran`, and lets go of
 * its connection; the clearing and the write say how many of their messages the broker had
 * acknowledged (a stop during the write used to say the report would be written, and wait for ever). Before, each waited for ever (its connection open, a
 * gentle end waiting for the unanswered packets), and a stop during the end's question to the twins
 * service waited out HELD_WAIT_MS.
 */
import { once } from "node:events";
import net from "node:net";
import mqttPacket from "mqtt-packet";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { fleetIds } from "../../sim/topology.js";
import { FleetStartStoppedError } from "../ids-in-use.js";
import { askHeld } from "../joined-held.js";
import { clearRetained } from "../setup-retained.js";
import { ShardRun } from "../shard-run.js";
import { FakeClient, fleet } from "./held-client.js";
import { idleShard } from "./idle-shard.js";

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const turn = () => new Promise((r) => setImmediate(r));
const count = (seen: readonly string[], cmd: string) => seen.filter((c) => c === cmd).length;

/**
 * An MQTT server that answers CONNECT and PINGREQ, the first `subacks` SUBSCRIBEs and no more, and
 * (with `pubacks`) every QoS 1 PUBLISH. With `claims`, it answers every SUBSCRIBE, and a claim's
 * connection (its client id `<prefix>-claim-<token>`) has its PUBLISHes acknowledged and passed back
 * live, as a broker passes a claim on, while the others' stay unanswered. Its URL, what it has seen
 * (`connect`, `subscribe`, `publish` in order, and the topic of each PUBLISH not a claim's) and how
 * many connections are open.
 */
async function stalling(subacks: number, pubacks: boolean, claims = false) {
  const seen: string[] = [];
  const topics: string[] = [];
  let open = 0;
  const srv = net.createServer((s) => {
    open++;
    let claim = false;
    sockets.push(s);
    s.on("error", () => {});
    s.on("close", () => open--);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const send = (p: mqttPacket.Packet) => s.write(mqttPacket.generate(p));
    parser.on("packet", (p) => {
      seen.push(p.cmd);
      if (p.cmd === "connect") {
        claim = claims && p.clientId.includes("-claim-");
        send({ cmd: "connack", returnCode: 0, sessionPresent: false });
      } else if (p.cmd === "pingreq") send({ cmd: "pingresp" });
      else if (p.cmd === "subscribe" && (claims || count(seen, "subscribe") <= subacks))
        send({ cmd: "suback", messageId: p.messageId, granted: p.subscriptions.map(() => 0 as const) });
      else if (p.cmd === "publish" && claim) {
        if (p.qos === 1) send({ cmd: "puback", messageId: p.messageId });
        if (p.payload.length > 0)
          send({ cmd: "publish", topic: p.topic, payload: p.payload, qos: 0, retain: false, dup: false });
      } else if (p.cmd === "publish") {
        topics.push(p.topic);
        if (p.qos === 1 && pubacks) send({ cmd: "puback", messageId: p.messageId });
      }
    });
    s.on("data", (d) => parser.parse(d));
  });
  servers.push(srv);
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address() as net.AddressInfo;
  return { url: `mqtt://127.0.0.1:${port}`, seen, topics, open: () => open };
}

/** Starts a shard on `url`, stops it once `reached()` holds, and returns what its start ended with. */
async function stopShardAt(url: string, reached: () => boolean, fresh = false): Promise<unknown> {
  const notes: string[] = [];
  const { run, done } = ShardRun.run({ ...idleShard(url, 15), fresh }, { index: 1, count: 2 }, undefined, {
    note: (l) => notes.push(l),
  });
  const ended = done.catch((e: unknown) => e);
  while (!reached()) await turn();
  expect(run.stop("SIGTERM")).toBe(false); // no report follows
  const got = await ended;
  expect(notes).toEqual([]);
  expect(got).toBeInstanceOf(FleetStartStoppedError);
  expect((got as FleetStartStoppedError).reason).toBe("SIGTERM");
  return got;
}

it("a stop while the shard's clock probe subscribes ends it there and lets go of its connection", async () => {
  const b = await stalling(0, true);
  const got = await stopShardAt(b.url, () => count(b.seen, "subscribe") === 1);
  expect((got as Error).message).toBe("stopped while starting the shard's clock probe: nothing ran");
  while (b.open() > 0) await turn();
});

it("a stop while the shard subscribes to the fleet's topics ends it there", async () => {
  const b = await stalling(1, true);
  const got = await stopShardAt(b.url, () => count(b.seen, "subscribe") === 2);
  expect((got as Error).message).toBe("stopped while subscribing to the fleet's topics: nothing ran");
  while (b.open() > 0) await turn();
});

it("a stop while --fresh clears the shard's retained messages says how many were cleared", async () => {
  const b = await stalling(1, false);
  const got = await stopShardAt(b.url, () => count(b.seen, "publish") >= 6, true);
  expect((got as Error).message).toBe(
    "stopped while clearing the retained report, config and status of this shard's nodes (--fresh): 0 of 6 cleared, the rest may still be on the broker: nothing ran",
  );
  while (b.open() > 0) await turn();
});

it("a stop while the shard writes its nodes' pairing configs says how many were written, and no report follows", async () => {
  // Its probe, watch and claim answered; its configs never acknowledged (their PUBACKs lost).
  const b = await stalling(0, false, true);
  const configs = () => b.topics.filter((t) => t.startsWith("tf/config/")).length;
  const got = await stopShardAt(b.url, () => configs() === 2);
  expect((got as Error).message).toBe(
    "stopped while writing the pairing configs of this shard's nodes: 0 of 2 configs written, the rest may be missing: nothing ran",
  );
  while (b.open() > 0) await turn();
});

it("a stop while a run's --fresh clears the fleet's retained messages ends it there, and says how far it got", async () => {
  const b = await stalling(0, false);
  const stop = new AbortController();
  const clearing = clearRetained(b.url, undefined, Prefix("tf"), fleetIds(4), stop.signal).catch(
    (e: unknown) => e,
  );
  while (count(b.seen, "publish") < 1) await turn();
  stop.abort("SIGINT");
  const got = await clearing;
  expect(got).toBeInstanceOf(FleetStartStoppedError);
  expect((got as Error).message).toBe(
    "stopped while clearing the retained report, config and status of the fleet's nodes (--fresh): 0 of 12 cleared, the rest may still be on the broker: nothing ran",
  );
  while (b.open() > 0) await turn();
});

it("a stop while the run asks the twins service which nodes it holds ends the wait at once", async () => {
  // Neither its subscription nor its questions answered, on a clock that never moves: only the stop ends it.
  const client = new FakeClient(() => undefined);
  const stop = new AbortController();
  const asking = askHeld(client, Prefix("tf"), "ctl-a", fleet, new FakeScheduler(), stop.signal);
  await turn();
  stop.abort("SIGTERM");
  expect(await asking).toMatchObject({ asked: fleet.length, answered: 0 });
});
