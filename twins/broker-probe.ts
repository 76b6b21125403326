/**
 * A probe of the broker on a client's own connection: an empty message to itself every 500 ms on a
 * topic of its own, so that a working broker is heard from all the time and a silence of 5 s with
 * the connection up means it stopped answering (twins/broker-watch.ts), told in seconds where the
 * keepalive takes 15 to 22.5 s. Silence counts only once a probe has come back: a broker whose
 * access rules refuse the topic would otherwise be told lost between keepalive pings, again and
 * again. That refusal (a SUBACK 0x80, or no echo in 10 s) is told once.
 */
import type { MqttClient } from "mqtt";
import { type BrokerWatch, SILENCE_MS, watchConnection } from "./broker-watch.js";
import { after, every, type Scheduler, type Timer } from "./clock.js";

export const PROBE_EVERY_MS = 500;

/** A probe that has not come back in this long is told (the broker's rules deliver it nowhere). */
const UNHEARD_AFTER_MS = 10_000;

export interface ProbeOptions {
  readonly sched: Scheduler;
  /** The probe's topic, this client's alone. */
  readonly topic: string;
  /** Whose probe, for the lines: e.g. "the run's". */
  readonly whose: string;
  /** The connection's errors while it is up (see watchConnection). */
  readonly error: (e: Error) => void;
  /** Told at most once: the probe cannot work on this broker, so a freeze is told only at the keepalive. */
  readonly unheard: (line: string) => void;
}

export interface ProbedWatch {
  /** The connection, silence included (armed once a probe came back). */
  readonly watch: BrokerWatch;
  /** Resolves when the first probe comes back: from then on a silence of 5 s tells the broker lost. */
  readonly heard: Promise<void>;
  /** Stops the probes and the watch (before the client is ended). */
  stop(): void;
}

/** Probes the broker on `client` (connected or connecting) and watches it for silence. */
export function probeBroker(client: MqttClient, opts: ProbeOptions): ProbedWatch {
  const { sched, topic } = opts;
  const timers: Timer[] = [];
  let echoed = false;
  let heardFirst = () => {};
  const heard = new Promise<void>((resolve) => {
    heardFirst = resolve;
  });
  client.on("message", (t) => {
    if (t !== topic) return;
    echoed = true;
    heardFirst();
  });
  const watch = watchConnection(client, () => sched.now(), opts.error, {
    sched,
    afterMs: SILENCE_MS,
    timers,
    armed: () => echoed,
  });
  let told = false;
  const tellUnheard = (why: string) => {
    if (told) return;
    told = true;
    opts.unheard(
      `${why}: a frozen broker is told only when its keepalive runs out (15-22 s), as without the probe`,
    );
  };
  const refusedLine = `the broker refused ${opts.whose} probe subscription to ${topic}`;
  // Subscribed again on each connect (the session is clean). MQTT.js rejects a SUBACK with a
  // refusal (0x80) in it; a connection lost meanwhile is no news.
  const subscribe = () =>
    void client.subscribeAsync(topic, { qos: 0 }).then(
      (granted) => {
        // A first probe at once: its echo arms the silence without waiting for the next tick.
        if (client.connected) client.publish(topic, "", { qos: 0 });
        return granted.some((g) => g.qos === 128) && tellUnheard(refusedLine);
      },
      (e: unknown) =>
        (e as { packet?: { granted?: unknown[] } }).packet?.granted?.includes(128) &&
        tellUnheard(refusedLine),
    );
  // Some brokers grant the subscription and deliver nothing their access rules deny (Mosquitto):
  // counted from the first connect.
  let waiting = false;
  const awaitEcho = () => {
    if (waiting) return;
    waiting = true;
    timers.push(
      after(sched, UNHEARD_AFTER_MS, () => {
        if (!echoed && client.connected)
          tellUnheard(`${opts.whose} probe on ${topic} has not come back in 10 s`);
      }),
    );
  };
  client.on("connect", () => {
    subscribe();
    awaitEcho();
  });
  if (client.connected) {
    subscribe();
    awaitEcho();
  }
  timers.push(
    every(sched, PROBE_EVERY_MS, () => {
      if (client.connected) client.publish(topic, "", { qos: 0 });
    }),
  );
  return {
    watch,
    heard,
    stop: () => {
      watch.stop();
      for (const t of timers) t.cancel();
    },
  };
}
