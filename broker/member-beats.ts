/**
 * The member watch (broker/member-watch.ts) on a broker sharing Redis: its beats published and heard
 * through Aedes (and so through Redis), a lost member logged and told on `$SYS/broker/member/<id>/lost`
 * with the topics of the wills its clients left in the store, and its return told on `…/back`.
 */
import type { Aedes } from "aedes";
import type { Logger } from "pino";
import type { Scheduler } from "../node/scheduler.js";
import { MEMBER_TOPIC, MemberWatch, type MemberWatchOptions } from "./member-watch.js";
import { publishPacket } from "./publish.js";
import type { WillStore } from "./stale-wills.js";

interface StoredWill {
  readonly topic: string;
  readonly clientId: string;
  readonly brokerId: string;
}

/** Aedes's emitter, which its typings leave as `any`. */
interface Emitter {
  on(topic: string, fn: (packet: { topic: string }, done: () => void) => void, cb?: () => void): void;
  removeListener(topic: string, fn: (packet: { topic: string }, done: () => void) => void): void;
}

const BEATS = `${MEMBER_TOPIC}/+/beat`;

/**
 * Aedes's own heartbeat (`$SYS/<id>/heartbeat`), sent once now. Aedes sends its first one only a
 * heartbeat interval (60 s) after its start, and the other members' will clean-up (every 4 minutes)
 * publishes and deletes the wills of every broker it has not heard one from: a member restarted
 * within a minute before another's clean-up had its live clients' wills published (each node shown
 * offline by its retained `T1 0` while connected) and deleted, so that when those nodes died later
 * nothing told it, and they were shown online for ever. Sent at the start, before the listeners, the
 * member is known alive from its first client on.
 */
export function announceAlive(aedes: Aedes): Promise<void> {
  return publishPacket(aedes, {
    topic: `$SYS/${aedes.id}/heartbeat`,
    payload: Buffer.from(aedes.id),
    qos: 0,
    retain: false,
  });
}

function publish(aedes: Aedes, topic: string, payload: string, qos: 0 | 1): Promise<void> {
  return publishPacket(aedes, { topic, payload: Buffer.from(payload), qos, retain: false });
}

/**
 * The will topics the store holds for clients of broker `id`, less those of clients with a will on a
 * member `alive` too: the store keeps a will per broker and client, so a client that moved to a live
 * member (or back to its restarted one) leaves its old will behind, and it is not cut off.
 */
async function willTopicsOf(store: WillStore, id: string, alive: ReadonlySet<string>): Promise<string[]> {
  const topics = new Map<string, string>();
  const elsewhere = new Set<string>();
  for await (const will of store.streamWill({}) as AsyncIterable<StoredWill>)
    if (will.brokerId === id) topics.set(will.clientId, will.topic);
    else if (alive.has(will.brokerId)) elsewhere.add(will.clientId);
  return [...topics].filter(([client]) => !elsewhere.has(client)).map(([, topic]) => topic);
}

/** The brokers the store holds wills of. */
async function willBrokers(store: WillStore): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const will of store.streamWill({}) as AsyncIterable<StoredWill>) ids.add(will.brokerId);
  return ids;
}

/**
 * Starts the watch, with every broker the store holds wills of known from the start (a member that
 * died before this one heard a beat of it); the returned function stops it.
 */
export function watchMembers(
  aedes: Aedes,
  store: WillStore,
  scheduler: Scheduler,
  logger: Logger,
  opts: MemberWatchOptions = {},
): { readonly stop: () => void; readonly watch: MemberWatch } {
  const mq = (aedes as unknown as { mq: Emitter }).mq;
  const failed = (what: string) => (err: unknown) => {
    if (!aedes.closed) logger.warn({ err }, what);
  };
  const watch = new MemberWatch(
    aedes.id,
    scheduler,
    {
      beat: () => {
        publish(aedes, `${MEMBER_TOPIC}/${aedes.id}/beat`, "", 0).catch(
          failed("a member beat was not published"),
        );
      },
      lost: (id, silentMs) => {
        willTopicsOf(store, id, watch.alive())
          .then(async (topics) => {
            // A member gone with no client left on it (a previous run whose clients all came back): nothing to tell.
            if (topics.length === 0) {
              logger.info(
                { member: id, silentMs: Math.round(silentMs) },
                `cluster member ${id} is gone, with no client left on it`,
              );
              return;
            }
            logger.warn(
              { member: id, silentMs: Math.round(silentMs), clients: topics.length },
              `cluster member ${id} has sent no beat for ${(silentMs / 1000).toFixed(1)} s while this broker's own went round Redis: it is down or cut off from Redis, and its ${topics.length} clients with wills reach no one; the twins are told they are unheard, their wills wait for the cluster heartbeat`,
            );
            await publish(aedes, `${MEMBER_TOPIC}/${id}/lost`, topics.join("\n"), 1);
          })
          .catch(failed("a lost cluster member could not be told"));
      },
      back: (id, silentMs) => {
        logger.warn(
          { member: id, silentMs: Math.round(silentMs) },
          `cluster member ${id} beats again after ${(silentMs / 1000).toFixed(1)} s`,
        );
        publish(aedes, `${MEMBER_TOPIC}/${id}/back`, "", 1).catch(
          failed("a cluster member's return was not told"),
        );
      },
    },
    opts,
  );
  const heard = (packet: { topic: string }, done: () => void): void => {
    const id = packet.topic.slice(MEMBER_TOPIC.length + 1, -"/beat".length);
    if (id !== "") watch.beatOf(id);
    done();
  };
  mq.on(BEATS, heard);
  announceAlive(aedes).catch(failed("the start's heartbeat was not published"));
  watch.start();
  willBrokers(store)
    .then((ids) => {
      for (const id of ids) watch.known(id);
    })
    .catch(failed("the members with clients could not be read from the store"));
  return {
    watch,
    stop: () => {
      watch.stop();
      mq.removeListener(BEATS, heard);
    },
  };
}
