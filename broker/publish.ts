/**
 * A message the broker publishes itself (its start id, the wills it owes, its members' beats and
 * losses), as a promise: Aedes's `publish` takes a callback.
 */
import type { Aedes, PublishPacket } from "aedes";

/** Publishes `packet` through `aedes`; resolves once it is routed (and stored, when retained). */
export function publishPacket(aedes: Aedes, packet: Omit<PublishPacket, "cmd" | "dup">): Promise<void> {
  return new Promise((resolve, reject) =>
    aedes.publish({ ...packet, cmd: "publish", dup: false }, (err) => (err ? reject(err) : resolve())),
  );
}
