/**
 * A standalone broker's `--http` server caps its connections as the fleet's web server does
 * (web/connection-limits.ts: a connection that never sent its request gives its place to one that
 * does), and its `/metrics` counts what the cap did under the same names (`twinfleet_web_connections`,
 * `_max`, `_closed_total{reason}`: web/connection-metrics.ts). It had the cap but none of the counts,
 * so a broker whose scrapes were being crowded out by held sockets showed nothing of it.
 */
import { connect, type Socket } from "node:net";
import { afterEach, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import type { RunningBroker } from "../../broker/server.js";
import { type BrokerHttpServer, startBrokerHttp } from "../broker-server.js";
import { parsePrometheus } from "./helpers.js";

let broker: RunningBroker | undefined;
let http: BrokerHttpServer | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await http?.close();
  await broker?.close();
});

/** A socket that sends half a request's headers and no more (a slowloris, a browser's spare). */
function halfRequest(port: number): Promise<{ socket: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
      resolve({ socket, closed });
    });
    sockets.push(socket);
    let got = "";
    socket.on("data", (d: Buffer) => {
      got += d.toString();
    });
    const closed = new Promise<string>((done) => socket.on("close", () => done(got)));
    socket.on("error", () => {});
    socket.once("error", reject);
  });
}

it("counts the connections open, the cap, and those closed at the cap, as the twins' web server does", async () => {
  broker = await startBroker({ host: "127.0.0.1", port: 0 });
  http = await startBrokerHttp({
    figures: broker.figures,
    port: 0,
    token: "broker-connections-token-0123456789",
    connections: { maxConnections: 3 },
  });
  const held: { socket: Socket; closed: Promise<string> }[] = [];
  for (let i = 0; i < 3; i++) held.push(await halfRequest(http.port));
  // A scrape at the cap is answered: the oldest socket without a request gave it its place.
  const r = await fetch(`${http.origin}/metrics`);
  expect(r.status).toBe(200);
  const after = parsePrometheus(await r.text());
  expect(await held[0]?.closed).toBe("");
  expect(after.get("twinfleet_web_connections_max")).toBe(3);
  expect(after.get('twinfleet_web_connections_closed_total{reason="no-request"}')).toBe(1);
  expect(after.get('twinfleet_web_connections_closed_total{reason="idle"}')).toBe(0);
  expect(after.get('twinfleet_web_connections_closed_total{reason="refused"}')).toBe(0);
  expect(after.get("twinfleet_web_connections")).toBe(3);
});
