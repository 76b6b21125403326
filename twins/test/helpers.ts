/**
 * Shared fixtures of the live twins tests: a real broker on port 0, protocol-exact nodes
 * (CoreClient) and an event-driven wait: a condition is looked at again whenever a watched twins
 * service or node reports a change (every state change of either comes with an event), never on a
 * timer; the deadline only bounds a failing wait.
 */
import { type AddressInfo, createServer, type Server } from "node:net";
import { Aedes, type Client } from "aedes";
import mqtt, { type MqttClient } from "mqtt";
import pino from "pino";
import { CoreClient } from "../../node/mqtt-node.js";
import { loopDeadline } from "../../node/test/loop-time.js";
import { NodeId, Prefix } from "../../protocol/index.js";
import type { TwinsOptions } from "../options.js";
import { startTwins, type Twins } from "../service.js";
import { jsonFileStore } from "../store.js";
import type { TwinsEvents } from "../types.js";

/** The pending waits' checks, run on every change of a watched service or node. */
const checks = new Set<() => void>();

let lookPending = false;

/**
 * Something a wait may look at changed: the pending waits look again once the current event has
 * reached all its listeners (a test's own listener may be what the wait looks at).
 */
export function changed(): void {
  if (lookPending) return;
  lookPending = true;
  queueMicrotask(() => {
    lookPending = false;
    for (const check of [...checks]) check();
  });
}

const TWINS_EVENTS: readonly (keyof TwinsEvents)[] = [
  "twin-registered",
  "twin-updated",
  "twin-online",
  "twin-offline",
  "bad-input",
  "convergence",
  "other-services",
];

/** Wakes the waits whenever `t` changes. */
export function watchTwins<T extends Twins>(t: T): T {
  for (const e of TWINS_EVENTS) t.on(e, changed);
  return t;
}

/** Wakes the waits whenever `n` acts (every change of its state comes with an output). */
export function watchNode<N extends CoreClient>(n: N): N {
  n.on("output", changed);
  n.on("synced", changed);
  return n;
}

export interface TestBroker {
  readonly url: string;
  readonly port: number;
  readonly aedes: Aedes;
  /** Cuts a client's socket from the broker side, as a dead link does: the broker sends its will. */
  kill(clientId: string): void;
  close(): Promise<void>;
}

export async function startTestBroker(): Promise<TestBroker> {
  const aedes = await Aedes.createBroker();
  const clients = new Map<string, Client>();
  aedes.on("client", (c) => clients.set(c.id, c));
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    aedes,
    kill(clientId) {
      const client = clients.get(clientId);
      if (!client) throw new Error(`no client ${clientId} on the broker`);
      client.conn.destroy();
    },
    async close() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface NodeOptions {
  /** Short by default, so a node with no retained state syncs quickly. */
  readonly syncGraceMs?: number;
  /** Reconnect after a drop (every 500 ms); off by default. */
  readonly reconnect?: boolean;
  /** Topic prefix; `tf` by default. */
  readonly prefix?: string;
}

/**
 * For a boot that is to find retained state (its config, its report): the protocol's default sync
 * grace (docs/protocol.md §5.1), not the short one, which a busy host's delivery of the retained
 * messages can outlast — the node then syncs without them. With both retained it syncs on their
 * arrival, so the longer grace costs nothing there.
 */
export const FINDS_RETAINED: NodeOptions = { syncGraceMs: 1500 };

/** A simulated node (CoreClient), started and synced. */
export async function startNode(url: string, id: string, opts: NodeOptions = {}): Promise<CoreClient> {
  const node = watchNode(
    new CoreClient({
      url,
      core: {
        id: NodeId(id),
        prefix: Prefix(opts.prefix ?? "tf"),
        kind: "sim",
        profile: "uno-w5100",
        firmware: "1.0.0",
        syncGraceMs: opts.syncGraceMs ?? 150,
      },
      tickMs: 10,
      reconnectPeriodMs: opts.reconnect ? 500 : 0,
    }),
  );
  const synced = new Promise<void>((resolve) => node.once("synced", resolve));
  await node.start();
  await synced;
  return node;
}

export async function rawClient(url: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 4, clean: true, reconnectPeriod: 0 });
}

/**
 * Resolves when `cond` holds, looking again on every change of a watched service or node; rejects
 * after `timeoutMs` of this process's loop time (node/test/loop-time.ts) with `what` in the message.
 * The broker, services and nodes of a test mostly run in its process: a busy host that held it
 * (4.8 s seen at load average 10-20 on 2 cores) held them too, and a wall-clock 5 s ran out on a
 * service that had connected in well under a second of the loop's time.
 */
export function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  if (cond()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      deadline.cancel();
      checks.delete(check);
      if (err) reject(err);
      else resolve();
    };
    const check = (): void => {
      try {
        if (cond()) done();
      } catch (e) {
        done(e instanceof Error ? e : new Error(String(e)));
      }
    };
    const deadline = loopDeadline(timeoutMs, () =>
      done(new Error(`timed out after ${timeoutMs} ms of loop time waiting for ${what}`)),
    );
    checks.add(check);
  });
}

/** What one test opened — a broker, twins services, nodes — closed in reverse order after it. */
export class Fixtures {
  /** The broker the services and nodes join; set by broker(), or by hand for another broker. */
  url = "";
  private readonly open: (() => Promise<unknown>)[] = [];

  track<T>(thing: T, close: (t: T) => Promise<unknown>): T {
    this.open.push(() => close(thing));
    return thing;
  }

  async broker(): Promise<TestBroker> {
    const b = this.track(await startTestBroker(), (x) => x.close());
    this.url = b.url;
    return b;
  }

  async twins(options: Omit<TwinsOptions, "url"> = {}): Promise<Twins> {
    return this.track(watchTwins(await startTwins({ url: this.url, ...options })), (t) => t.close());
  }

  /** A service on `dir`'s store (twins/store.ts), its log lines, at info, pushed to `lines` as written. */
  async twinsOn(dir: string, lines: string[]): Promise<Twins> {
    const logger = pino({ level: "info" }, { write: (s: string) => lines.push(s) });
    return this.twins({ logger, store: await jsonFileStore(dir) });
  }

  async node(id: string, opts: NodeOptions = {}): Promise<CoreClient> {
    return this.track(await startNode(this.url, id, opts), (n) => n.stop());
  }

  async close(): Promise<void> {
    for (const c of this.open.splice(0).reverse()) await c();
  }
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
