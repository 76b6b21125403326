/**
 * A cap on persistent sessions (clean session 0) that hold subscriptions. Aedes keeps such a session
 * for ever, and while its client is away every QoS 1 publish matching it is written to the store for
 * it (each queue is capped by broker/session-queue.ts, but not their number): with `--data`, 2,000
 * sessions on `#` made by a client on the LAN under made-up ids took a QoS 1 publish from 0.5 ms to
 * 47 ms. Past the cap, the SUBSCRIBE that would start a new session gets 0x80 for each filter and its
 * client stays connected; a session that holds subscriptions already (this run's or one the store
 * kept) subscribes as before, and clean sessions are not counted. Logged once when the cap is
 * reached and again once back under nine tenths.
 *
 * The count is the store's own (`countOffline`, every persistent client with a stored subscription,
 * connected or not), read again at most once a second and raised by each session let in meanwhile,
 * so it is never behind by more than what a second's clean-ups gave back. Whether a client's session
 * is stored is asked of the store at its first subscription (aedes restores a returning session's
 * subscriptions through the same hook).
 */
import type { AuthorizeSubscribeHandler, Client } from "aedes";
import type { Logger } from "pino";
import type { Scheduler } from "../node/scheduler.js";

/** What of an aedes persistence this reads. */
export interface SessionCount {
  countOffline(): Promise<{ readonly clientsCount: number }>;
  subscriptionsByClient(client: { readonly id: string }): Promise<readonly unknown[]>;
}

const RECOUNT_MS = 1000;

export function limitSessions(
  inner: AuthorizeSubscribeHandler,
  store: SessionCount,
  maxSessions: number,
  logger: Logger,
  scheduler: Scheduler,
  onRefused: () => void = () => {},
): AuthorizeSubscribeHandler {
  let count = 0;
  let countedAt = Number.NEGATIVE_INFINITY;
  let full = false;

  const current = async (): Promise<number> => {
    const now = scheduler.now();
    if (now - countedAt >= RECOUNT_MS) {
      count = (await store.countOffline()).clientsCount;
      countedAt = now;
    }
    return count;
  };

  /** Whether the client's session may hold subscriptions: decided once per client. */
  const decide = async (client: Client): Promise<boolean> => {
    // A session the store holds (a client back, its subscriptions restored through this hook too)
    // is not a new one.
    if ((await store.subscriptionsByClient({ id: client.id })).length > 0) return true;
    const n = await current();
    if (n >= maxSessions) {
      onRefused();
      if (!full) {
        full = true;
        logger.warn(
          { clientId: client.id, sessions: n, limit: maxSessions },
          "persistent session refused: --max-sessions reached (its SUBSCRIBE gets 0x80; clean sessions are not counted)",
        );
      }
      return false;
    }
    if (full && n < 0.9 * maxSessions) {
      full = false;
      logger.info(
        { sessions: n, limit: maxSessions },
        "persistent sessions back under nine tenths of --max-sessions",
      );
    }
    count = n + 1;
    return true;
  };
  /** One decision per client, shared by the filters of its SUBSCRIBE, which are authorized at once. */
  const decisions = new WeakMap<Client, Promise<boolean>>();

  return (client, subscription, callback) => {
    inner(client, subscription, (err, granted) => {
      if (err !== null || granted === null || granted === undefined || client.clean)
        return callback(err, granted);
      let decision = decisions.get(client);
      if (decision === undefined) {
        decision = decide(client);
        decisions.set(client, decision);
        // A refused client may try again once the count has moved.
        decision.then(
          (ok) => ok || decisions.delete(client),
          () => decisions.delete(client),
        );
      }
      decision.then(
        (ok) => callback(null, ok ? granted : null),
        (e: unknown) => callback(e instanceof Error ? e : new Error(String(e)), null),
      );
    });
  };
}
