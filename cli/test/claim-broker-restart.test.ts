/**
 * A run's claim on its ids across a `kill -9` and restart of its broker (fleet/fleet-claim.ts): the
 * claim's connection is lost (it comes back within a second or so, fleet/claim-hold.ts, and the run
 * may end before), and the claim is retained in the broker's data directory. A twinfleet broker of a build before --will-grace (one a site rolled back to) publishes
 * no will of its previous run's clients, so the claim stayed retained after the run's end and the
 * next run on the ids was refused; the run's end now clears it on a connection of its own. The
 * restarted broker here holds its previous run's wills for 10 minutes (`--will-grace 600`), as such
 * a build holds them for ever.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { client, retainedOf } from "../../broker/test/helpers.js";
import { claimFleet, claimTopic } from "../../fleet/fleet-claim.js";
import { RealScheduler } from "../../node/scheduler.js";
import { cliArgs } from "../../node/test/cli-command.js";
import { Prefix } from "../../protocol/index.js";
import { fleetIds } from "../../sim/topology.js";

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** `twinfleet broker --data DIR` in a process of its own; resolves with it and its port once it listens. */
async function broker(dir: string, port: number): Promise<{ child: ChildProcess; port: number }> {
  const args = [
    "broker",
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--data",
    dir,
    "--will-grace",
    "600",
  ];
  const child = spawn(process.execPath, [...cliArgs(), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let text = "";
  const listening = new Promise<number>((resolve, reject) => {
    const look = (d: Buffer) => {
      text += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    };
    child.stdout?.on("data", look);
    child.stderr?.on("data", look);
    child.once("exit", () => reject(new Error(`the broker ended before it listened:\n${text}`)));
  });
  return { child, port: await listening };
}

it("clears its claim at the run's end when its broker was killed and restarted under the run", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tf-claim-restart-"));
  dirs.push(dir);
  const first = await broker(join(dir, "b"), 0);
  const url = `mqtt://127.0.0.1:${first.port}`;
  const prefix = Prefix("tf");
  const claim = await claimFleet(
    { url, prefix, ids: fleetIds(4), keepaliveS: 60, waitMs: 1000, token: "t1" },
    new RealScheduler(),
    () => {},
  );
  first.child.kill("SIGKILL");
  await once(first.child, "exit");
  await broker(join(dir, "b"), first.port);
  const topic = claimTopic(prefix, "t1");
  const c = await client(url);
  expect(Object.keys(await retainedOf(c, [topic]))).toEqual([topic]); // kept across the restart
  await c.endAsync();
  await claim.close();
  const after = await client(url);
  // Before: the claim, held until a run on the ids was refused for it.
  expect(await retainedOf(after, [topic])).toEqual({});
  await after.endAsync();
}, 90_000);
