/**
 * A shard whose nodes the broker closes at once (its open-files limit reached once the shard's own
 * connections are in): told while it happens, once, with the count, as a one-process run tells it
 * (fleet/closed-at-once-live.ts). Before, a shard said so in its report only.
 */
import { once } from "node:events";
import net from "node:net";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { type BrokerHost, openBrokerHost } from "../broker-host.js";
import { closedAtOnceLine } from "../closed-at-once-live.js";
import { ShardRun } from "../shard-run.js";
import { idleShard } from "./idle-shard.js";

let broker: BrokerHost | undefined;
let proxy: net.Server | undefined;
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
  await broker?.close();
});

/** In front of `to`: the first `forwarded` connections pass, every later one is closed at accept. */
async function fillingUp(to: string, forwarded: number): Promise<string> {
  const { port } = new URL(to);
  let n = 0;
  proxy = net.createServer((s) => {
    sockets.push(s);
    s.on("error", () => {});
    if (++n > forwarded) return void s.end();
    const b = net.connect(Number(port), "127.0.0.1");
    sockets.push(b);
    b.on("error", () => s.destroy());
    s.pipe(b).pipe(s);
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  return `mqtt://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
}

it("tells the shard's nodes the broker closes at once while it happens, once", async () => {
  broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
  // The shard's watch client and its claim get in; its 4 nodes are closed at once.
  const url = await fillingUp(broker.url, 2);
  const options = {
    ...idleShard(url, 15),
    profileOverrides: { mqtt: { keepaliveS: 15, socketTimeoutS: 1 } },
  };
  const notes: string[] = [];
  let told: () => void = () => {};
  const heard = new Promise<void>((resolve) => {
    told = resolve;
  });
  const { run, done } = ShardRun.run(options, { index: 1, count: 1 }, undefined, {
    note: (l) => {
      notes.push(l);
      if (l.includes("cannot connect")) told();
    },
  });
  // Limited by the test's own time only: before, no such line came.
  await heard;
  run.stop("SIGTERM");
  const file = await done;
  expect(notes.filter((l) => l.includes("cannot connect"))).toEqual([closedAtOnceLine(4)]);
  expect(Object.keys(file.registrationMs)).toEqual([]);
});
