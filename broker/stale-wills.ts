/**
 * The last wills a data directory kept from the broker's previous run (killed, or its host lost
 * power). Aedes publishes the stored wills of brokers it has not heard from only at its will
 * clean-up, every 4 minutes (4 × its 60 s heartbeat), so after a restart the nodes that died while
 * the broker was down stayed listed online, by their retained status, for up to 4 minutes. A data
 * directory is one broker's alone (LevelDB locks it), so every will stored under another broker id
 * is a previous run's: `graceMs` after the start, the wills of clients that have not connected again
 * by then are published and deleted, as Aedes's clean-up does. A client that reconnects within the
 * grace replaces its will with its new session's (stored per client id), and nothing is published
 * for it. A Redis store is shared by live brokers, whose wills are not stale: left to Aedes.
 */
import type { Readable } from "node:stream";
import type { Aedes, PublishPacket } from "aedes";
import type { Logger } from "pino";
import { STALL_RECONNECT_MS } from "../node/stall-watch.js";
import { publishPacket } from "./publish.js";
import { type JustStalled, NEVER_STALLED, readyIoJudge } from "./ready-io.js";
import { WillTally } from "./will-kinds.js";

/**
 * 20 s: a node tries again every 5 s (PubSubClient), and a fleet of thousands reconnects within a
 * few of those after a restart (docs/faults.md); one that is not back by then is reported gone.
 * Under the 22.5 s a live broker takes to give up on a silent node (1.5 × its 15 s keepalive): a
 * fleet restarted with its broker after a power cut (`sim --broker`) waits that long, plus 1 s, for
 * its ids to go offline (fleet/ids-in-use.ts), and with 30 s it found them still online and refused.
 */
export const DEFAULT_STALE_WILL_GRACE_MS = 20_000;

/** A will as the stores keep it: the packet, with the client and the broker it was connected to. */
interface StoredWill extends PublishPacket {
  readonly clientId: string;
  readonly brokerId: string;
}

/** Aedes's clients by id, which its typings leave out. */
interface AedesClients {
  readonly clients: Readonly<Record<string, { readonly closed: boolean } | undefined>>;
}

/** What of an aedes persistence this reads. */
export interface WillStore {
  streamWill(brokers: Readonly<Record<string, number>>): Readable;
  delWill(client: { readonly id: string; readonly brokerId: string }): Promise<unknown>;
}

/**
 * Publishes and deletes the stored wills of other broker ids whose clients are not connected here;
 * resolves to how many were published.
 */
export async function publishStaleWills(aedes: Aedes, store: WillStore, logger: Logger): Promise<number> {
  const tally = new WillTally();
  // The stores leave out the wills of the broker ids given: this broker's own clients'.
  for await (const will of store.streamWill({ [aedes.id]: Date.now() }) as AsyncIterable<StoredWill>) {
    if (will.brokerId === aedes.id || connected(aedes, will.clientId)) continue;
    await publishPacket(aedes, will);
    tally.add(will.clientId, will.topic);
    // The stores delete a will by client id: one that connected again meanwhile has stored its own.
    // A delete that fails (a full disk) leaves the will to Aedes's clean-up, which publishes it again.
    if (!connected(aedes, will.clientId))
      await store.delWill({ id: will.clientId, brokerId: will.brokerId }).catch((err: unknown) => {
        logger.warn({ err, clientId: will.clientId }, "a published will could not be deleted from the store");
      });
  }
  // Named in kinds: a count of every will read as the fleet's nodes (42 for 40 nodes beside a twins
  // service's presence and a fleet run's claim).
  if (tally.published > 0)
    logger.info(
      tally.fields(),
      `last wills of clients not back since the previous run published: ${tally.words()}`,
    );
  return tally.published;
}

/**
 * How many stored wills of other broker ids have their client not connected here: the previous run's
 * clients that could still come back. None left, none ever will be (a client that connects replaces
 * its will with one of this broker's), and a grace has no one to wait for.
 */
export async function pendingStaleWills(aedes: Aedes, store: WillStore): Promise<number> {
  let pending = 0;
  for await (const will of store.streamWill({ [aedes.id]: Date.now() }) as AsyncIterable<StoredWill>)
    if (will.brokerId !== aedes.id && !connected(aedes, will.clientId)) pending++;
  return pending;
}

function connected(aedes: Aedes, clientId: string): boolean {
  const client = (aedes as unknown as AedesClients).clients[clientId];
  return client !== undefined && !client.closed;
}

/** The connections accepted and not yet registered or closed (broker/connect-budget.ts). */
export interface Connecting {
  readonly size: number;
  /** The clock the connections' accept times are on. */
  readonly clock: { now(): number };
  /** Of those, the ones that sent something, or were accepted at `since` or later. */
  coming(since: number): number;
}

/**
 * Runs `publishStaleWills` once, `graceMs` after now, judged after the ready I/O (broker/ready-io.ts).
 * A broker that did not run for a while within the grace (stopped, a VM paused) published, when it ran
 * again, the wills of the nodes whose reconnects waited in its accept backlog: a connection accepted
 * by then and not yet registered or closed shows the fleet coming back, and the grace is given once
 * more from then, if it has sent something or was taken from the backlog as the grace came due. A
 * connection accepted earlier that has sent nothing (a silent socket, a WebSocket upgrade and no
 * CONNECT) is no node coming back: a node writes its CONNECT the moment it is connected, and a flood
 * of such sockets from the LAN kept the wills, and the nodes listed online, one grace longer. (A node whose connection waited longer than its own CONNACK timeout, 15 s for
 * PubSubClient, has given that one up and tries again 5 s later, so its waiting CONNECT alone does not
 * bring it back.) A grace that came due while the broker did not run is extended from then too,
 * whatever is connecting: the nodes frozen with it (a `sim` beside its embedded broker, a VM paused
 * with its fleet) reconnect only once they run again, and do within seconds of it: when nothing is connecting
 * then, they are given STALL_RECONNECT_MS (10 s, at most the grace), after which the wills of the
 * clients not back are published, unless clients are coming then (the grace once more, as above). A
 * remote node's reconnect waiting in the backlog is a client coming, given the whole grace. Either way
 * the grace goes on only while a will of the previous run has its client not back
 * (`pendingStaleWills`): with none left it ends, nothing logged, as there is no one to wait for. The
 * returned function cancels it.
 */
export function scheduleStaleWills(
  aedes: Aedes,
  store: WillStore,
  graceMs: number,
  logger: Logger,
  connecting: Connecting,
  stalled: JustStalled = NEVER_STALLED,
): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let extended = false;
  const judge = readyIoJudge(stalled);
  const publish = (): void => {
    publishStaleWills(aedes, store, logger).catch((err: unknown) => {
      if (!aedes.closed) logger.warn({ err }, "last wills of the previous run could not be published");
    });
  };
  const arm = (ms: number): void => {
    timer = setTimeout(() => {
      const dueAt = connecting.clock.now();
      judge({
        due: () => timer !== undefined && !aedes.closed,
        heard: () => !extended && connecting.coming(dueAt) > 0,
        extend: (why) => {
          if (why === "heard") extended = true;
          const coming = connecting.coming(dueAt);
          // Given again only for the previous run's clients that are not back: with none (every one
          // back, or a directory that held no will), the grace ends here, nothing to publish.
          pendingStaleWills(aedes, store).then(
            (wills) => {
              if (timer === undefined || aedes.closed) return;
              if (wills === 0) {
                timer = undefined;
                return;
              }
              // After a stall with nothing connecting, the clients that can still come back are those
              // frozen with the broker: they reconnect within seconds of running again.
              const againMs = why === "heard" ? graceMs : Math.min(graceMs, STALL_RECONNECT_MS);
              logger.info(
                { wills, connecting: coming, silent: connecting.size - coming, graceMs: againMs },
                why === "heard"
                  ? "clients reconnecting at the end of the will grace: the grace is given again"
                  : "the will grace ended while the broker did not run (its host stopped or paused it): the clients frozen with it are given time to reconnect",
              );
              arm(againMs);
            },
            (err: unknown) => {
              // Unread, the wills may still be there: the grace is given again, as before.
              if (timer === undefined || aedes.closed) return;
              logger.warn({ err }, "last wills of the previous run could not be read");
              arm(graceMs);
            },
          );
        },
        expire: () => {
          if (!extended && connecting.size > 0)
            logger.info(
              { silent: connecting.size },
              "connections that sent nothing at the end of the will grace: not taken for clients reconnecting",
            );
          publish();
        },
      });
    }, ms);
    timer.unref();
  };
  arm(graceMs);
  return () => {
    clearTimeout(timer);
    timer = undefined;
  };
}
