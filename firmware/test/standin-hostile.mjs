// A twinfleet-standin against a hostile "broker" (a raw TCP listener on port 0): a first connection
// syncs it (config `C1 3 a b`, report `R1 1 7 <id>`), then each next connection gets one malformed,
// oversized or endless answer, and the last a set command written one byte at a time. The stand-in
// must keep running, connect again after each, keep its state through all of them, and take the
// last. Prints `ok …` / `FAIL …` lines and exits non-zero on failure.
//   node firmware/test/standin-hostile.mjs <path to twinfleet-standin>
import { spawn } from "node:child_process";
import net from "node:net";
import { createInterface } from "node:readline";

const bin = process.argv[2];
if (!bin) {
  console.error("usage: standin-hostile.mjs <twinfleet-standin>");
  process.exit(2);
}
const ID = "h-1";
const HOLD_MS = 400; // each connection is closed after this, if the stand-in has not closed it
let failed = 0;
let passed = 0;
function check(ok, what) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
}

/** MQTT's remaining-length encoding. */
function varint(n) {
  const b = [];
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d |= 128;
    b.push(d);
  } while (n > 0);
  return Buffer.from(b);
}
/** A PUBLISH; qos 1 adds a packet id. */
function publish(topic, payload, qos = 0) {
  const t = Buffer.from(topic);
  const id = qos > 0 ? Buffer.from([0, 1]) : Buffer.alloc(0);
  const body = Buffer.concat([Buffer.from([t.length >> 8, t.length & 255]), t, id, Buffer.from(payload)]);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1)]), varint(body.length), body]);
}
const CONNACK = Buffer.from([0x20, 2, 0, 0]);
const SYNC = Buffer.concat([
  publish(`tf/config/${ID}`, "C1 3 a b", 1),
  publish(`tf/report/${ID}`, `R1 1 7 ${ID}`, 1),
]);

// [what, bytes after the CONNECT]
const HOSTILE = [
  [
    "a remaining length of 5 bytes",
    Buffer.concat([CONNACK, Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f])]),
  ],
  ["a topic length past the packet", Buffer.concat([CONNACK, Buffer.from([0x30, 3, 0, 10, 0x78])])],
  ["a CONNACK of 7 bytes", Buffer.from([0x20, 7, 1, 2, 3, 4, 5, 6, 7])],
  [
    "a reserved packet type and a PINGRESP with a body",
    Buffer.concat([CONNACK, Buffer.from([0xf0, 0, 0xd0, 3, 1])]),
  ],
  ["a SUBACK for no subscription", Buffer.concat([CONNACK, Buffer.from([0x90, 3, 0x12, 0x34, 0x99])])],
  [
    "a PUBLISH announcing 256 MB, then 100 KB of it",
    Buffer.concat([
      CONNACK,
      Buffer.from([0x30]),
      varint(268435455),
      Buffer.from([0, 5]),
      Buffer.alloc(100000, 65),
    ]),
  ],
  [
    "a set command padded to 70,000 bytes",
    Buffer.concat([CONNACK, publish(`tf/state/${ID}`, `S1 0 99${" ".repeat(70000)}`)]),
  ],
  ["a topic with a NUL", Buffer.concat([CONNACK, publish(`tf/state/${ID}\u0000x`, "S1 0 5")])],
  [
    "a topic of invalid UTF-8",
    Buffer.concat([CONNACK, publish(`tf/state/${ID}\u00ff`, "S1 0 5").fill(0xc3, 4, 5)]),
  ],
  ["20 KB of zero bytes", Buffer.concat([CONNACK, Buffer.alloc(20000)])],
  [
    "its own report above the ceiling",
    Buffer.concat([CONNACK, publish(`tf/report/${ID}`, `R1 0 4294967295 ${ID}`, 1)]),
  ],
];

let connections = 0;
let child;
const asked = []; // what each `state` asked for is after, in order
const seen = []; // [what, state line]
let last = "";
const server = net.createServer((sock) => {
  const k = connections++;
  // Connection k is the stand-in back after the hostile answer k - 1: its state now.
  if (k >= 2 && k <= HOSTILE.length + 1) {
    asked.push(HOSTILE[k - 2][0]);
    child.stdin.write("state\n");
  }
  sock.on("error", () => {});
  setTimeout(() => sock.destroy(), HOLD_MS);
  sock.once("data", () => {
    if (k === 0 || k === HOSTILE.length + 1) sock.write(Buffer.concat([CONNACK, SYNC]));
    if (k >= 1 && k <= HOSTILE.length) sock.write(HOSTILE[k - 1][1]);
    if (k === HOSTILE.length + 1) {
      // The set command split into single bytes, 5 ms apart: reads of every size.
      const bytes = publish(`tf/state/${ID}`, "S1 0 1");
      for (const [i, b] of bytes.entries()) {
        setTimeout(
          () => {
            if (!sock.destroyed) sock.write(Buffer.from([b]));
          },
          100 + 5 * i,
        );
      }
    }
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const port = server.address().port;

child = spawn(bin, ["--port", String(port), "--id", ID, "--sync-grace-ms", "100", "--reconnect-ms", "100"], {
  stdio: ["pipe", "pipe", "pipe"],
});
createInterface({ input: child.stderr }).on("line", (l) => console.log(`  [${ID}!] ${l}`));
createInterface({ input: child.stdout }).on("line", (l) => {
  if (!l.startsWith("state ")) return;
  const what = asked.shift();
  if (what) seen.push([what, l]);
  else last = l;
});
let exited = false;
child.on("exit", () => {
  exited = true;
});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const deadline = Date.now() + 20000;
while (connections <= HOSTILE.length + 1 && !exited && Date.now() < deadline) await sleep(50);
await sleep(HOLD_MS);
child.stdin.write("state\n");
await sleep(100);

const synced = "state on=1 led=1 counter=7 origin=h-1 clock=7 sources=a,b config=3";
for (const [what, line] of seen)
  check(line.startsWith(synced), `after ${what}: ${line.replace(/^state /, "")}`);
check(seen.length === HOSTILE.length, `connected again after each of the ${HOSTILE.length} (${seen.length})`);
check(
  last.startsWith("state on=0 led=0 counter=8 origin=h-1 clock=8 sources=a,b config=3"),
  `a set command read one byte at a time is taken: ${last.replace(/^state /, "")}`,
);
check(!exited, "the stand-in is still running");
child.kill("SIGKILL");
server.close();
console.log(`standin-hostile: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
