/**
 * A proxy in front of a broker for the claim's tests: once armed, the next acknowledgement the broker
 * sends a claim connection (client id `…-claim-…`) for its publishes is held until a clear of a claim
 * (an empty publish) has been passed on to it after it, then sent after that clear. What a broker that writes a
 * retained message to its disk before acknowledging it shows when a clear comes meanwhile: the run
 * reads the clear before the acknowledgement of the claim it published just before.
 */
import { once } from "node:events";
import net from "node:net";
import mqttPacket from "mqtt-packet";

export interface LateAcks {
  readonly url: string;
  /** From now on, a claim connection's next acknowledgement waits for a clear passed on to it. */
  arm(): void;
  close(): Promise<void>;
}

export async function lateAcks(to: string): Promise<LateAcks> {
  const { port } = new URL(to);
  const sockets: net.Socket[] = [];
  let armed = false;
  const server = net.createServer((run) => {
    const broker = net.connect(Number(port), "127.0.0.1");
    sockets.push(run, broker);
    for (const s of [run, broker]) s.on("error", () => {});
    run.on("close", () => broker.destroy());
    broker.on("close", () => run.destroy());
    run.pipe(broker);
    let claim = false;
    const held: Buffer[] = [];
    const up = mqttPacket.parser({ protocolVersion: 4 });
    up.on("packet", (p) => {
      if (p.cmd === "connect") claim = p.clientId.includes("-claim-");
    });
    run.on("data", (d) => up.parse(d));
    const down = mqttPacket.parser({ protocolVersion: 4 });
    down.on("packet", (p) => {
      const bytes = mqttPacket.generate(p);
      if (claim && armed && p.cmd === "puback") held.push(bytes);
      else run.write(bytes);
      if (claim && held.length > 0 && p.cmd === "publish" && p.payload.length === 0) {
        armed = false;
        for (const b of held.splice(0)) run.write(b);
      }
    });
    broker.on("data", (d) => down.parse(d));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    arm: () => {
      armed = true;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
