/**
 * A run's watch on a broker outside its process (`--broker`, `--broker-process`): one plain client
 * that sends itself a probe through the broker every 500 ms, so a broker that stops answering while
 * its sockets stay open (a frozen process, a hung host, a cut path) is told lost after 5 s of
 * silence. The twins service notices only when its keepalive ping goes unanswered, 15 to 22.5 s in,
 * and a shorter freeze never: its presses then showed as late deliveries with no cause named. A
 * shard's watch client does the same with its clock probes (fleet/shard-run.ts).
 */
import { randomBytes } from "node:crypto";
import { after, every, type Scheduler, type Timer } from "../node/scheduler.js";
import type { Prefix } from "../protocol/index.js";
import type { BrokerLogin } from "../twins/index.js";
import type { BrokerWatchable } from "./broker-outages.js";
import { PROBE_EVERY_MS } from "./shard-probe.js";
import { connectWatchClient, WATCH_SILENCE_MS, watchConnection } from "./shard-watch.js";

/** A probe that has not come back in this long is told (the broker's rules deliver it nowhere). */
const UNHEARD_AFTER_MS = 10_000;

export interface BrokerProbe {
  /** The probe client's connection: lost when it drops or the broker falls silent, back when heard again. */
  readonly watch: BrokerWatchable;
  close(): Promise<void>;
}

/** Where a run's probes go: its own topic under the fleet's prefix, apart from every other run's. */
function runProbeTopic(prefix: Prefix): string {
  return `${prefix}/run-probe/${randomBytes(6).toString("hex")}`;
}

export async function openBrokerProbe(
  url: string,
  login: BrokerLogin | undefined,
  prefix: Prefix,
  sched: Scheduler,
  error: (e: Error) => void,
  refused: (line: string) => void = () => {},
): Promise<BrokerProbe> {
  const client = await connectWatchClient(url, login);
  const timers: Timer[] = [];
  const topic = runProbeTopic(prefix);
  // Silence means something only once the probe has come back: a broker whose access rules refuse
  // the topic would otherwise be told lost between keepalive pings, again and again.
  let echoed = false;
  client.on("message", (t) => {
    if (t === topic) echoed = true;
  });
  const watch = watchConnection(client, () => sched.now(), error, {
    sched,
    afterMs: WATCH_SILENCE_MS,
    timers,
    armed: () => echoed,
  });
  let told = false;
  const tellUnheard = (why: string) => {
    if (told) return;
    told = true;
    refused(
      `${why}: a frozen broker is told only when its keepalive runs out (15-22 s), as without the probe`,
    );
  };
  const refusedLine = `the broker refused the run's probe subscription to ${topic}`;
  // Subscribed again on each reconnect: the session is clean. MQTT.js rejects a SUBACK with a
  // refusal (0x80) in it; a connection lost meanwhile is no news.
  const subscribe = () =>
    void client.subscribeAsync(topic, { qos: 0 }).then(
      (granted) => granted.some((g) => g.qos === 128) && tellUnheard(refusedLine),
      (e: unknown) =>
        (e as { packet?: { granted?: unknown[] } }).packet?.granted?.includes(128) &&
        tellUnheard(refusedLine),
    );
  client.on("connect", subscribe);
  subscribe();
  // Some brokers grant the subscription and deliver nothing its access rules deny (Mosquitto).
  timers.push(
    after(sched, UNHEARD_AFTER_MS, () => {
      if (!echoed && client.connected) tellUnheard(`the run's probe on ${topic} has not come back in 10 s`);
    }),
  );
  timers.push(
    every(sched, PROBE_EVERY_MS, () => {
      if (client.connected) client.publish(topic, "", { qos: 0 });
    }),
  );
  return {
    watch,
    close: async () => {
      for (const t of timers) t.cancel();
      await client.endAsync(true).catch(() => {});
    },
  };
}
