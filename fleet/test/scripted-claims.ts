/**
 * A broker for the claim's tests that delivers the claims in an order the test writes: what a
 * cluster's members may do (a subscription's retained claims read after live ones, a claim replayed
 * after its removal), which one process's broker hardly ever shows. It acknowledges what the run
 * sends; on the run's SUBSCRIBE it plays `onSubscribe`, and on the run's claim `onClaim`. `quiet()`
 * tells when the script has been played and the run has acknowledged (so handled) every claim sent.
 */
import { createServer, type Server, type Socket } from "node:net";
import mqttPacket from "mqtt-packet";

/** A claim the script delivers: its topic's token, its ids (none: the claim's removal), retained or live. */
export interface Delivery {
  readonly token: string;
  readonly ids?: readonly string[];
  readonly retain: boolean;
}

export interface ClaimScript {
  readonly onSubscribe?: readonly Delivery[];
  /** Played when the run publishes its claim; "own" and "own-retained" pass the run's claim back. */
  readonly onClaim: readonly (Delivery | "own" | "own-retained")[];
}

export class ScriptedClaims {
  private constructor(
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    private readonly counts: { delivered: number; acked: number; played: boolean },
    readonly url: string,
  ) {}

  quiet(): boolean {
    return this.counts.played && this.counts.acked === this.counts.delivered;
  }

  static async start(script: ClaimScript, prefix = "tf"): Promise<ScriptedClaims> {
    const sockets = new Set<Socket>();
    const counts = { delivered: 0, acked: 0, played: false };
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      let id = 1;
      const send = (p: mqttPacket.Packet) => socket.write(mqttPacket.generate(p));
      const deliver = (topic: string, payload: Buffer, retain: boolean) => {
        counts.delivered++;
        send({ cmd: "publish", topic, payload, qos: 1, messageId: id++, retain, dup: false });
      };
      const play = (d: Delivery) =>
        deliver(
          `${prefix}/claim/${d.token}`,
          Buffer.from(d.ids ? JSON.stringify({ ids: d.ids }) : ""),
          d.retain,
        );
      parser.on("packet", (p) => {
        if (p.cmd === "connect") send({ cmd: "connack", returnCode: 0, sessionPresent: false });
        else if (p.cmd === "pingreq") send({ cmd: "pingresp" });
        else if (p.cmd === "puback") counts.acked++;
        else if (p.cmd === "subscribe") {
          send({ cmd: "suback", messageId: p.messageId ?? 0, granted: p.subscriptions.map(() => 1) });
          for (const d of script.onSubscribe ?? []) play(d);
        } else if (p.cmd === "publish") {
          if (p.qos > 0) send({ cmd: "puback", messageId: p.messageId ?? 0 });
          const payload = Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload);
          if (payload.length === 0) return;
          for (const d of script.onClaim) {
            if (d === "own" || d === "own-retained") deliver(p.topic, payload, d === "own-retained");
            else play(d);
          }
          counts.played = true;
        } else if (p.cmd === "disconnect") socket.end();
      });
      socket.on("data", (b) => parser.parse(b));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    return new ScriptedClaims(server, sockets, counts, `mqtt://127.0.0.1:${port}`);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
