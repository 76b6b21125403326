/**
 * A TCP proxy on port 0 in front of a test broker that holds back the replay markers it sends to a
 * one-shot command (`<prefix>/twins-probe/…/replay`): `hold` keeps every marker, and every PUBACK
 * after the first marker (the markers' own), until the connection ends, as a broker or host too slow
 * for the command's wait would; `dropFirst` drops the first marker and passes the rest, as a
 * full client queue would; `dropAll` drops every marker, their PUBACKs passed, as Mosquitto does of a
 * publish its access rules deny.
 */
import { type AddressInfo, createServer, connect as netConnect, type Server } from "node:net";

export interface MarkerProxy {
  readonly url: string;
  /** Markers held or dropped so far. */
  readonly markers: () => number;
  close(): Promise<void>;
}

/** The topic of an MQTT PUBLISH packet (whole, its fixed header's length `head`), undefined for other packets. */
function publishTopic(pkt: Buffer, head: number): string | undefined {
  if (pkt[0] === undefined || pkt[0] >> 4 !== 3) return undefined;
  return pkt.subarray(head + 2, head + 2 + pkt.readUInt16BE(head)).toString("utf8");
}

export async function startMarkerProxy(
  port: number,
  mode: "hold" | "dropFirst" | "dropAll",
): Promise<MarkerProxy> {
  let seen = 0;
  const server: Server = createServer((c) => {
    const b = netConnect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let holding = false;
    c.on("data", (d) => b.write(d));
    b.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        let len = 0;
        let i = 1;
        for (let mul = 1; ; i++, mul *= 128) {
          const byte = buf[i];
          if (byte === undefined) return;
          len += (byte & 127) * mul;
          if ((byte & 128) === 0) break;
        }
        if (buf.length < i + 1 + len) return;
        const pkt = buf.subarray(0, i + 1 + len);
        buf = buf.subarray(i + 1 + len);
        const topic = publishTopic(pkt, i + 1);
        const marker = topic?.includes("/twins-probe/") === true && topic.endsWith("/replay");
        if (marker) seen++;
        if (marker && mode === "hold") holding = true;
        const puback = pkt[0] !== undefined && pkt[0] >> 4 === 4;
        if ((holding && (marker || puback)) || (marker && (mode === "dropAll" || seen === 1))) continue;
        c.write(pkt);
      }
    });
    const end = () => {
      c.destroy();
      b.destroy();
    };
    for (const s of [c, b]) s.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const at = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${at}`,
    markers: () => seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
