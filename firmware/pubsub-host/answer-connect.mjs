/**
 * A TCP relay in front of a broker that passes every connection on, but answers node n-0000's
 * CONNECT itself with the bytes given in hex; with `pass`, it then passes that connection on to the
 * broker too (whose own CONNACK follows), else it keeps it, reading and answering nothing more; with
 * `every=<ms>`, it sends the answer one byte every <ms> ms (the first at once) and keeps it so; with
 * `close`, it closes the connection (a FIN) right behind the answer. Logs,
 * in ms since its start, each answer and each close of n-0000's connection. For
 * firmware/pubsub-host/host_client.cpp and the simulated node alike (docs/device-model.md, "The
 * first packet after CONNECT").
 * Usage: node answer-connect.mjs <listen port> <broker port> <hex> [pass | every=<ms> | close]
 */
import { connect, createServer } from "node:net";

const [listen, up] = process.argv.slice(2, 4).map(Number);
const [hex, mode] = process.argv.slice(4);
const every = /^every=[1-9][0-9]*$/.test(mode ?? "") ? Number(mode.slice(6)) : undefined;
if (
  !(
    listen > 0 &&
    up > 0 &&
    /^([0-9a-f]{2})+$/i.test(hex ?? "") &&
    (mode === undefined || mode === "pass" || mode === "close" || every !== undefined)
  )
) {
  console.error(
    "usage: node answer-connect.mjs <listen port> <broker port> <hex> [pass | every=<ms> | close]",
  );
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
      if (mode === "close") s.end(answer);
      else if (every === undefined) s.write(answer);
      else {
        const send = (i) => {
          if (i >= answer.length || s.destroyed) return;
          s.write(answer.subarray(i, i + 1));
          log(`n-0000 byte ${i + 1} of ${answer.length} sent`);
          setTimeout(() => send(i + 1), every);
        };
        send(0);
      }
      s.on("close", () => log("n-0000's socket closed"));
      if (mode !== "pass") return;
    }
    const u = connect(up, "127.0.0.1", () => u.write(first));
    u.on("error", () => s.destroy());
    s.on("close", () => u.destroy());
    s.pipe(u).pipe(s);
  });
}).listen(listen, "127.0.0.1");
