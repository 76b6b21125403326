/**
 * Per-client limits aedes does not have: how many subscriptions one client may hold. A SUBSCRIBE
 * past the limit gets 0x80 (failure) for each filter beyond it and the client stays connected; the
 * first refusal of each client is logged, the rest at debug. Filters the client already holds never
 * count twice, so a re-subscribe always succeeds.
 */
import type { Aedes, AuthorizeSubscribeHandler, Client } from "aedes";
import type { Logger } from "pino";

/**
 * `inner` (the access rules) followed by the subscription limit. Filters granted but not yet in the
 * client's subscriptions (one SUBSCRIBE's filters are authorized in parallel) are counted as held.
 */
export function limitSubscriptions(
  aedes: Aedes,
  inner: AuthorizeSubscribeHandler,
  maxSubscriptions: number,
  logger: Logger,
): AuthorizeSubscribeHandler {
  const granting = new WeakMap<Client, Set<string>>();
  const warned = new WeakSet<Client>();
  aedes.on("subscribe", (subscriptions, client) => {
    const pending = client === null ? undefined : granting.get(client);
    for (const s of subscriptions) pending?.delete(s.topic);
  });
  return (client, subscription, callback) => {
    inner(client, subscription, (err, granted) => {
      if (err !== null || granted === null || granted === undefined) return callback(err, granted);
      // aedes keeps a client's subscriptions by filter; its typings leave the field out.
      const held = (client as unknown as { subscriptions: Record<string, unknown> }).subscriptions;
      const topic = granted.topic;
      let pending = granting.get(client);
      if (pending === undefined) {
        pending = new Set();
        granting.set(client, pending);
      }
      if (held[topic] !== undefined || pending.has(topic)) return callback(null, granted);
      let count = pending.size;
      for (const key in held) if (!pending.has(key)) count += 1;
      if (count >= maxSubscriptions) {
        const fields = { clientId: client.id, topic, limit: maxSubscriptions };
        if (warned.has(client)) logger.debug(fields, "subscription refused: limit per client");
        else {
          warned.add(client);
          logger.warn(fields, "subscription refused: limit per client");
        }
        return callback(null, null);
      }
      pending.add(topic);
      callback(null, granted);
    });
  };
}
