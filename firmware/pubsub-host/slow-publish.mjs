/**
 * A TCP relay in front of a broker that passes every connection on, but into node n-0000's puts a
 * 10,240-byte PUBLISH 3 s after its CONNACK, trickled at RATE bytes a second, with the broker's own
 * bytes queued behind it as TCP would have them. Logs, in ms since its start, what n-0000 sends and
 * who closes its connection. For firmware/pubsub-host/host_client.cpp and the simulated node alike
 * (docs/device-model.md, "A packet that arrives slowly").
 * Usage: node slow-publish.mjs <listen port> <broker port> <bytes a second>
 */
import { connect, createServer } from "node:net";

const [listen, up, rate] = process.argv.slice(2).map(Number);
if (!(listen > 0 && up > 0 && rate > 0)) {
  console.error("usage: node slow-publish.mjs <listen port> <broker port> <bytes a second>");
  process.exit(2);
}
const start = Date.now();
const log = (m) => console.log(`${String(Date.now() - start).padStart(8)} ms  ${m}`);

/** A PUBLISH to tf/x of `total` bytes in all (a 2-byte remaining length). */
function bigPublish(total) {
  const topic = Buffer.from("tf/x");
  const rest = total - 3;
  const head = Buffer.from([0x30, (rest & 127) | 128, rest >> 7, 0, topic.length]);
  return Buffer.concat([head, topic, Buffer.alloc(rest - 2 - topic.length, 0x31)]);
}

createServer((s) => {
  s.once("data", (first) => {
    const watched = first.includes("tf-n-0000");
    const u = connect(up, "127.0.0.1", () => u.write(first));
    s.on("error", () => u.destroy());
    u.on("error", () => s.destroy());
    if (!watched) {
      s.pipe(u).pipe(s);
      return;
    }
    log("n-0000 CONNECT");
    const queue = [];
    let trickling = false;
    let injected = false;
    const flush = () => {
      while (!trickling && queue.length > 0) s.write(queue.shift());
    };
    const inject = () => {
      const pk = bigPublish(10_240);
      const per = Math.max(1, Math.round(rate / 10));
      let off = 0;
      trickling = true;
      log(`10 KB PUBLISH starts, ${rate} B/s`);
      const tick = setInterval(() => {
        if (s.destroyed) return clearInterval(tick);
        s.write(pk.subarray(off, off + per));
        off += per;
        if (off < pk.length) return;
        clearInterval(tick);
        trickling = false;
        log("10 KB PUBLISH sent; the broker's queued bytes follow");
        flush();
      }, 100);
    };
    u.on("data", (b) => {
      queue.push(b);
      flush();
      if (injected || b[0] !== 0x20) return;
      injected = true;
      log("CONNACK passed on");
      setTimeout(inject, 3000);
    });
    s.on("data", (b) => {
      log(`n-0000 sends ${b.length} bytes, packet type 0x${b[0].toString(16)}`);
      u.write(b);
    });
    s.on("close", () => {
      log("n-0000's socket closed");
      u.destroy();
    });
    u.on("close", () => {
      log("the broker closed n-0000's connection");
      s.end();
    });
  });
}).listen(listen, "127.0.0.1");
