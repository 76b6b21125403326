/**
 * A shard stopped (Ctrl-C, SIGTERM) while it connects to a broker that accepts and never answers:
 * its watch client's connect ends at once, with nothing run and no report, as a one-process run's
 * connects do (it waited its 10 s connect timeout, then failed as unreachable); and its look for
 * the twins service on the broker ends at once too (it ran its course after the stop).
 */
import { once } from "node:events";
import net from "node:net";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId, Prefix } from "../../protocol/index.js";
import { FleetStartStoppedError } from "../ids-in-use.js";
import type { HeldClient } from "../joined-held.js";
import { askShardHeld, shardHeldEarlyLine } from "../shard-held.js";
import { ShardRun } from "../shard-run.js";
import { idleShard } from "./idle-shard.js";

const held: net.Socket[] = [];
let srv: net.Server | undefined;

afterEach(async () => {
  for (const s of held.splice(0)) s.destroy();
  await new Promise((r) => (srv ? srv.close(r) : r(undefined)));
});

/**
 * A server that accepts every connection and never answers (`connack`: answers its CONNECT, then
 * nothing more); its URL, and how many connections it holds (those answered, with `connack`).
 */
async function silent(connack = false): Promise<{ url: string; open: () => number }> {
  srv = net.createServer((s) => {
    s.on("error", () => {});
    if (!connack) held.push(s);
    s.once("data", () => {
      if (connack) held.push(s);
      if (connack) s.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
    });
    s.resume();
  });
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address() as net.AddressInfo;
  return { url: `mqtt://127.0.0.1:${port}`, open: () => held.filter((s) => !s.destroyed).length };
}

const turn = () => new Promise((r) => setImmediate(r));

it("a stop while the shard's watch client connects ends it there: nothing ran, no report", async () => {
  const { url, open } = await silent();
  const notes: string[] = [];
  const { run, done } = ShardRun.run(idleShard(url, 15), { index: 1, count: 2 }, undefined, {
    note: (l) => notes.push(l),
  });
  const ended = done.catch((e: unknown) => e);
  while (open() < 1) await turn();
  // No report follows (before, it said one would, then failed 10 s later as unreachable).
  expect(run.stop("SIGTERM")).toBe(false);
  const got = await ended;
  expect(got).toBeInstanceOf(FleetStartStoppedError);
  expect((got as FleetStartStoppedError).reason).toBe("SIGTERM");
  expect((got as Error).message).toBe("stopped while connecting the shard's watch client: nothing ran");
  expect(notes).toEqual([]);
});

it("a stop while the shard looks for the twins service ends the look at once", async () => {
  // Connected, its subscription never answered: the look's own 1 s is all that would end it.
  const { url, open } = await silent(true);
  // The fake clock never moves: only the stop can end the looks (they used to run their 1 s).
  const sched = new FakeScheduler();
  const target = { url, prefix: Prefix("tf") };
  const client = {} as HeldClient; // never asked: no service is found
  const stop = new AbortController();
  const asked = askShardHeld(client, target, [NodeId("n-0000")], sched, stop.signal);
  const early = shardHeldEarlyLine(client, target, [NodeId("n-0000")], 2, sched, stop.signal);
  while (open() < 2) await turn();
  stop.abort("SIGTERM");
  expect(await asked).toBeUndefined();
  expect(await early).toBeUndefined();
  // Their connections let go.
  while (open() > 0) await turn();
});
