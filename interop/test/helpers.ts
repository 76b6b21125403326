/**
 * Shared pieces of the interop tests: protocol-exact nodes (CoreClient) on a broker URL, a reader
 * of a broker's retained messages, and a wait that polls a condition until a deadline (the events
 * are real socket events, so only their arrival is awaited).
 */
import mqtt from "mqtt";
import type { CoreClient } from "../../node/mqtt-node.js";
import { type NodeOptions, startNode as startTwinsTestNode } from "../../twins/test/helpers.js";

/**
 * How long a wait may take by default: the brokers are other processes, and a cluster's leader
 * election alone was measured at 4 s; a deadline only bounds a wait that fails.
 */
const WAIT_MS = 15_000;

export interface Delivery {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
  readonly qos: number;
}

/** A protocol-exact node, started and synced: on Mosquitto, a longer grace and reconnects. */
export function startNode(url: string, id: string, opts: NodeOptions = {}): Promise<CoreClient> {
  return startTwinsTestNode(url, id, { syncGraceMs: 300, reconnect: true, ...opts });
}

/**
 * The retained messages under `filter`, as a new subscriber gets them. A broker sends a new
 * subscription's retained messages before anything published after the SUBACK, so a marker
 * published then and received back closes the list.
 */
export async function retained(url: string, filter: string): Promise<Map<string, Delivery>> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, clean: true, reconnectPeriod: 0 });
  const marker = `interop/marker/${process.pid}/${Math.random().toString(36).slice(2)}`;
  const out = new Map<string, Delivery>();
  try {
    const done = new Promise<void>((resolve) => {
      client.on("message", (topic, payload, packet) => {
        if (topic === marker) resolve();
        else out.set(topic, { topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos });
      });
    });
    await client.subscribeAsync([filter, marker], { qos: 1 });
    await client.publishAsync(marker, "end", { qos: 1 });
    await done;
    return out;
  } finally {
    await client.endAsync();
  }
}

/**
 * The retained messages under `filter`, read again until `ok` holds or `timeoutMs` pass: on a
 * cluster a write through one member reaches the others a little later, and brokers sharing Redis
 * may send a subscription's retained messages after the marker that closes the list.
 */
export async function retainedWhen(
  url: string,
  filter: string,
  ok: (m: Map<string, Delivery>) => boolean,
  timeoutMs = WAIT_MS,
): Promise<Map<string, Delivery>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const got = await retained(url, filter);
    if (ok(got) || performance.now() > deadline) return got;
  }
}

/** Resolves when `cond` holds; rejects after `timeoutMs` with `what` in the message. */
export async function until(cond: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The id of the `i`th node of a fleet left on a broker (n-0000, n-0001, …). */
export const fleetId = (i: number): string => `n-${String(i).padStart(4, "0")}`;

/**
 * A fleet of `n` nodes gone, as a broker keeps it: each one's retained config (following the next),
 * status `T1 0` and report, published 250 nodes at a time.
 */
export async function fleetLeft(url: string, n: number): Promise<void> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 4, clean: true, reconnectPeriod: 0 });
  for (let from = 0; from < n; from += 250) {
    const sent: Promise<unknown>[] = [];
    for (let i = from; i < Math.min(n, from + 250); i++) {
      sent.push(
        c.publishAsync(`tf/config/${fleetId(i)}`, `C1 3 ${fleetId((i + 1) % n)}`, { qos: 1, retain: true }),
      );
      sent.push(c.publishAsync(`tf/status/${fleetId(i)}`, "T1 0", { qos: 1, retain: true }));
      sent.push(
        c.publishAsync(`tf/report/${fleetId(i)}`, `R1 1 ${i + 1} ${fleetId(i)}`, { qos: 1, retain: true }),
      );
    }
    await Promise.all(sent);
  }
  await c.endAsync();
}
