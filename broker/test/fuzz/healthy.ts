/**
 * The well-behaved client of a fuzz soak: an MQTT.js client subscribed to its own topic that
 * publishes QoS 1 to itself and times each message's way back (publish → broker → delivery).
 * Its client id and topic lie outside the fuzz sets (packets.ts), so no fuzz connection takes its
 * session over or publishes on its topic, short of a mutation that happens to spell them.
 */
import { connectAsync, type MqttClient } from "mqtt";
import { loopDeadline } from "../../../node/test/loop-time.js";

export const HEALTHY_TOPIC = "healthy/round-trip";

export class HealthyClient {
  private seq = 0;
  private readonly waiting = new Map<number, (ms: number) => void>();

  private constructor(private readonly client: MqttClient) {
    client.on("message", (topic, payload) => {
      if (topic !== HEALTHY_TOPIC || payload.length !== 12) return;
      const n = payload.readUInt32BE(0);
      const sentAt = payload.readDoubleBE(4);
      const done = this.waiting.get(n);
      if (!done) return;
      this.waiting.delete(n);
      done(performance.now() - sentAt);
    });
  }

  static async connect(url: string, clientId = "healthy-soak"): Promise<HealthyClient> {
    const client = await connectAsync(url, {
      clientId,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      keepalive: 30,
    });
    await client.subscribeAsync(HEALTHY_TOPIC, { qos: 1 });
    return new HealthyClient(client);
  }

  /**
   * One QoS 1 round trip in ms (wall time); rejects if the message is not back within `timeoutMs`
   * of this process's loop time (node/test/loop-time.ts: what the host took from a broker in this process is
   * not counted against it).
   */
  roundTrip(timeoutMs = 5000): Promise<number> {
    const n = this.seq++;
    const payload = Buffer.alloc(12);
    payload.writeUInt32BE(n, 0);
    payload.writeDoubleBE(performance.now(), 4);
    return new Promise((resolve, reject) => {
      const deadline = loopDeadline(timeoutMs, () => {
        this.waiting.delete(n);
        reject(new Error(`round trip ${n} not back within ${timeoutMs} ms of loop time`));
      });
      this.waiting.set(n, (ms) => {
        deadline.cancel();
        resolve(ms);
      });
      this.client.publish(HEALTHY_TOPIC, payload, { qos: 1 }, (err) => {
        if (!err) return;
        deadline.cancel();
        this.waiting.delete(n);
        reject(err);
      });
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
