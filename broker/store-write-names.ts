/**
 * Each store write as the broker's words for a stalled disk name it (broker/store-stall.ts: the
 * oldest write waiting): `a retained message for TOPIC`, `the will of CLIENT`, `the subscriptions of
 * CLIENT`, `the time CLIENT was last seen`, … from the persistence call and its arguments (aedes-persistence's
 * signatures, and the broker's own: session expiry's saveSeen and dropQueue, level-store.ts).
 */

interface Named {
  readonly id?: unknown;
  readonly clientId?: unknown;
  readonly topic?: unknown;
  readonly payload?: { readonly length?: number };
}

const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
/** A client as aedes passes it (`{ id }`), or its id alone (the broker's own writes: session expiry). */
const clientOf = (arg: unknown): string => text(arg) ?? text((arg as Named | undefined)?.id) ?? "a client";
const topicOf = (arg: unknown): string => text((arg as Named | undefined)?.topic) ?? "a topic";

/** The write `name` (a persistence method) called with `args`, named. */
export function storeWriteName(name: string, args: readonly unknown[]): string {
  const [first, second] = args;
  switch (name) {
    case "storeRetained":
      return (first as Named | undefined)?.payload?.length === 0
        ? `the clearing of the retained message for ${topicOf(first)}`
        : `a retained message for ${topicOf(first)}`;
    case "putWill":
      return `the will of ${clientOf(first)}`;
    case "delWill":
      return `the removal of the will of ${clientOf(first)}`;
    case "addSubscriptions":
    case "removeSubscriptions":
    case "cleanSubscriptions":
      return `the subscriptions of ${clientOf(first)}`;
    case "outgoingEnqueue":
      return `a message for ${topicOf(second)} queued for ${text((first as Named | undefined)?.clientId) ?? "a client"}`;
    case "outgoingEnqueueCombi":
      return `a message for ${topicOf(second)} queued for ${Array.isArray(first) ? first.length : "its"} offline sessions`;
    case "outgoingUpdate":
    case "outgoingClearMessageId":
      return `the queue of ${clientOf(first)}`;
    case "dropQueue":
      return `the queue of ${clientOf(first)}`;
    case "saveSeen":
      return second === undefined
        ? `the removal of the time ${clientOf(first)} was last seen`
        : `the time ${clientOf(first)} was last seen`;
    case "incomingStorePacket":
    case "incomingDelPacket":
    case "cleanIncoming":
      return `a QoS 2 message from ${clientOf(first)}`;
    default:
      return name;
  }
}
