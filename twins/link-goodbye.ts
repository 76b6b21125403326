/**
 * The goodbye of the service's MQTT.js connection (twins/broker-link.ts `close`): its presence
 * cleared and a clean disconnect, waiting for the broker at most CLOSE_GRACE_MS. A broker that dies
 * mid-goodbye never acknowledges it, and MQTT.js would hold both for a reconnect that is not coming:
 * past the bound the connection is dropped (the broker, if it comes back, has the will). Dropped by
 * destroying its socket: MQTT.js ignores a forced end while its gentle one is under way, so the
 * socket stayed open until the keepalive gave up (22.5 s more) and held the process (a one-shot
 * command against a broker gone silent ended 15-20 s after its error).
 */
import type { MqttClient } from "mqtt";
import type { Logger } from "pino";
import { resetConnection } from "./broker-away.js";
import { after, type Scheduler, type Timer } from "./clock.js";
import { CLOSE_GRACE_MS } from "./presence.js";

export async function goodbye(
  client: MqttClient,
  opts: { readonly presence: boolean; readonly scheduler: Scheduler; readonly logger: Logger },
  presenceTopic: string,
): Promise<void> {
  // Not connected (its first connect under way, or an outage): there is no one to say goodbye to,
  // and MQTT.js's gentle end queues its DISCONNECT for a connection that may still come up, then
  // never ends it: a service stopped just after it started kept its socket open and never exited.
  if (!client.connected) {
    await client.endAsync(true);
    return;
  }
  const said = (async () => {
    if (client.connected && opts.presence) {
      await client
        .publishAsync(presenceTopic, "", { qos: 1, retain: true })
        .catch((err: unknown) => opts.logger.warn({ err }, "twins: clearing the presence failed"));
    }
    await client.endAsync();
  })();
  let timer: Timer | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = after(opts.scheduler, CLOSE_GRACE_MS, () => resolve("late"));
  });
  const outcome = await Promise.race([said.then(() => "done" as const), late]);
  timer?.cancel();
  if (outcome === "late") {
    opts.logger.warn(
      `twins: the broker did not take the goodbye within ${CLOSE_GRACE_MS / 1000} s; the connection is dropped`,
    );
    // The socket first, then a forced end: one not yet ending (its presence clear unanswered) is
    // marked ending before the socket's close is handled, so it does not reconnect.
    resetConnection(client);
    await client.endAsync(true);
  }
}
