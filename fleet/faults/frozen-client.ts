/**
 * A frozen client: an MQTT client that subscribes to (by default) the whole fleet and then stops
 * reading its socket, as a hung tool or a wedged device does. Its TCP window closes, the broker's
 * writes to it back up, and a broker that waits for it delays everyone else. It says when the broker
 * cut it off. A broker that is not reachable when the fault starts is tried again (fleet/faults/
 * targets.ts), as a tool that reconnects by itself would be.
 */
import { connect, type Socket } from "node:net";
import { generate, parser } from "mqtt-packet";

export interface FrozenClientOptions {
  readonly host: string;
  readonly port: number;
  readonly clientId: string;
  readonly topic: string;
  readonly username?: string;
  readonly password?: string;
  /** The run's clock, for `cutAt`. */
  readonly now: () => number;
}

export class FrozenClient {
  /** When the broker closed the connection while the client was frozen; undefined if it did not. */
  cutAt: number | undefined;
  private frozen = false;

  private constructor(
    private readonly socket: Socket,
    private readonly now: () => number,
  ) {
    socket.on("close", () => {
      if (this.frozen && this.cutAt === undefined) this.cutAt = this.now();
    });
  }

  /** Connects and subscribes (waiting for CONNACK and SUBACK), then stops reading. */
  static open(o: FrozenClientOptions): Promise<FrozenClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: o.host, port: o.port });
      const parse = parser({ protocolVersion: 4 });
      const fail = (err: NodeJS.ErrnoException) => {
        socket.destroy();
        reject(Object.assign(new Error(`frozen client: ${err.message}`), { code: err.code }));
      };
      const closedEarly = () =>
        fail(
          Object.assign(new Error("the broker closed the connection before it subscribed"), {
            code: "ECONNRESET",
          }),
        );
      socket.once("error", fail);
      socket.once("close", closedEarly);
      socket.on("data", (b) => parse.parse(b));
      parse.on("error", fail);
      parse.on("packet", (p) => {
        if (p.cmd === "connack") {
          if (p.returnCode !== 0) {
            fail(new Error(`the broker refused it (CONNACK ${p.returnCode})`));
            return;
          }
          socket.write(
            generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: o.topic, qos: 0 }] }),
          );
        } else if (p.cmd === "suback") {
          socket.removeAllListeners("data");
          socket.off("error", fail);
          socket.off("close", closedEarly);
          socket.on("error", () => {}); // a reset once cut off is the expected end
          socket.pause();
          const c = new FrozenClient(socket, o.now);
          c.frozen = true;
          resolve(c);
        }
      });
      socket.once("connect", () =>
        socket.write(
          generate({
            cmd: "connect",
            protocolId: "MQTT",
            protocolVersion: 4,
            clientId: o.clientId,
            clean: true,
            // The broker may drop a client that sends nothing for 1.5 × keepalive: 0 keeps a
            // frozen client connected, so only a full queue can get it cut off.
            keepalive: 0,
            ...(o.username !== undefined ? { username: o.username } : {}),
            ...(o.password !== undefined ? { password: Buffer.from(o.password) } : {}),
          }),
        ),
      );
    });
  }

  /** Bytes the client has not read: what sits in its (Node-side) receive buffer. */
  get unreadBytes(): number {
    return this.socket.readableLength;
  }

  /** Thaws and leaves: the fault is over. */
  close(): void {
    this.frozen = false;
    this.socket.destroy();
  }
}

/** Failures that pass once a broker is up again: nothing listening yet, a reset, no answer. */
const TRANSIENT = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** Whether `FrozenClient.open` failed in a way a later attempt may not (the broker is not reachable). */
export function unreachable(err: unknown): boolean {
  return TRANSIENT.has((err as NodeJS.ErrnoException).code ?? "");
}
