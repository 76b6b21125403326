/**
 * A TCP relay in front of a broker that passes every connection on, but answers node n-0000's
 * CONNECT itself with the bytes given in hex; with `pass`, it then passes that connection on to the
 * broker too (whose own CONNACK follows), else it keeps it, reading and answering nothing more. Logs,
 * in ms since its start, each answer and each close of n-0000's connection. For
 * firmware/pubsub-host/host_client.cpp and the simulated node alike (docs/device-model.md, "The
 * first packet after CONNECT").
 * Usage: node answer-connect.mjs <listen port> <broker port> <hex> [pass]
 */
import { connect, createServer } from "node:net";

const [listen, up] = process.argv.slice(2, 4).map(Number);
const [hex, mode] = process.argv.slice(4);
if (
  !(listen > 0 && up > 0 && /^([0-9a-f]{2})+$/i.test(hex ?? "") && (mode === undefined || mode === "pass"))
) {
  console.error("usage: node answer-connect.mjs <listen port> <broker port> <hex> [pass]");
  process.exit(2);
}
const answer = Buffer.from(hex, "hex");
const start = Date.now();
const log = (m) => console.log(`${String(Date.now() - start).padStart(8)} ms  ${m}`);

createServer((s) => {
  s.on("error", () => {});
  s.once("data", (first) => {
    const watched = first.includes("tf-n-0000");
    if (watched) {
      log(`n-0000 CONNECT answered ${hex}`);
      s.write(answer);
      s.on("close", () => log("n-0000's socket closed"));
      if (mode !== "pass") return;
    }
    const u = connect(up, "127.0.0.1", () => u.write(first));
    u.on("error", () => s.destroy());
    s.on("close", () => u.destroy());
    s.pipe(u).pipe(s);
  });
}).listen(listen, "127.0.0.1");
