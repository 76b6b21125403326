// Two twinfleet-standin processes (the firmware core over libmosquitto) on a real broker (aedes on
// port 0): pair lamp-1 to sw-1 with a control command, press sw-1, and see lamp-1 follow; then cut
// sw-1's power and see its last will. Prints `ok …` / `FAIL …` lines and exits non-zero on failure.
//   node firmware/test/standin-pair.mjs <path to twinfleet-standin>
import { spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import net from "node:net";
import { createInterface } from "node:readline";
import { Aedes } from "aedes";
import mqtt from "mqtt";

const bin = process.argv[2];
if (!bin) {
  console.error("usage: standin-pair.mjs <twinfleet-standin>");
  process.exit(2);
}
const TIMEOUT_MS = 5000;
let failed = 0;
let passed = 0;

function check(ok, what) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
}

/** Resolves when `predicate` holds for a line of `lines`, or with false after `timeoutMs`. */
function waitFor(lines, predicate, timeoutMs = TIMEOUT_MS) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      lines.off("line", onLine);
      resolve(false);
    }, timeoutMs);
    const onLine = (l) => {
      if (!predicate(l)) return;
      clearTimeout(timer);
      lines.off("line", onLine);
      resolve(true);
    };
    lines.on("line", onLine);
  });
}

function standIn(id, port) {
  const child = spawn(
    bin,
    // A reconnect period shorter than the sketch's 5 s, to keep the test short.
    [
      ...["--host", "127.0.0.1", "--port", String(port), "--id", id],
      ...["--sync-grace-ms", "300", "--reconnect-ms", "2000"],
    ],
    {
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  const out = createInterface({ input: child.stdout });
  const err = createInterface({ input: child.stderr });
  out.on("line", (l) => console.log(`  [${id}] ${l}`));
  err.on("line", (l) => console.log(`  [${id}!] ${l}`));
  const ready = waitFor(out, (l) => l === "ready");
  return { child, out, err, ready };
}

// A broker that cannot be reached is said, once, not left in silence while the stand-in retries.
{
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const closedPort = probe.address().port;
  await new Promise((resolve) => probe.close(resolve));
  const lost = standIn("lost-1", closedPort);
  const said = waitFor(
    lost.err,
    (l) => l === `cannot reach the broker at 127.0.0.1:${closedPort}: Connection refused; retrying every 2 s`,
  );
  check(await said, "a stand-in whose broker cannot be reached says so");
  let again = 0;
  lost.err.on("line", () => again++);
  await new Promise((resolve) => setTimeout(resolve, 2500));
  check(again === 0, "and says it once, not at every retry");
  lost.child.kill("SIGTERM");
}

/**
 * A listener in a process whose thread blocks, so it never accepts: the kernel completes handshakes
 * into its queue of `backlog` and, once that is full, leaves SYNs unanswered.
 */
async function mute(backlog) {
  const code = `import net from "node:net";
const s = net.createServer();
s.listen({ port: 0, host: "127.0.0.1", backlog: ${backlog} }, () =>
  process.stdout.write(s.address().port + "\\n", () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)));`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code]);
  const port = await new Promise((resolve) =>
    createInterface({ input: child.stdout }).once("line", (l) => resolve(Number(l))),
  );
  return { child, port };
}

// A broker frozen (its kernel takes the connection, nothing answers the CONNECT): the attempt ends
// after 15 s, as PubSubClient's MQTT_SOCKET_TIMEOUT, and says so (libmosquitto's text for it was
// "Unknown error"). Started here and checked at the end, so its 15 s run beside the other checks.
const frozen = await mute(100);
const frozenIn = standIn("frozen-1", frozen.port);
const frozenSaid = waitFor(
  frozenIn.err,
  (l) =>
    l ===
    `cannot reach the broker at 127.0.0.1:${frozen.port}: connected, but no CONNACK within 15 s; retrying every 2 s`,
  25_000,
);

// A broker whose SYNs go unanswered (its host down, a cable out, a full listen queue): a listener
// with a backlog of 1 and two connections queued in front. A board's EthernetClient gives up the
// handshake after 1 s and its loop, and the button interrupt, go on; the stand-in sat in
// libmosquitto's blocking connect until Linux gave up (127 s), reading no press and no command.
{
  const { child: hole, port: holePort } = await mute(1);
  const queued = [0, 1, 2].map(() => net.connect(holePort, "127.0.0.1").on("error", () => {}));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const stuck = standIn("hole-1", holePort);
  try {
    const said = waitFor(
      stuck.err,
      (l) =>
        l === `cannot reach the broker at 127.0.0.1:${holePort}: Connection timed out; retrying every 2 s`,
      3000,
    );
    check(
      await said,
      "a stand-in whose connect goes unanswered gives up the attempt, as EthernetClient does (1 s)",
    );
    const pressedAt = performance.now();
    const led = waitFor(stuck.out, (l) => l === "led 1", 1000);
    const state = waitFor(
      stuck.out,
      (l) => l.startsWith("state on=0 led=1 ") && l.endsWith(" phase=offline"),
      1000,
    );
    stuck.child.stdin.write("press\nstate\n");
    check((await led) && (await state), "and goes on serving the button and commands while it retries");
    check(
      performance.now() - pressedAt < 1000,
      "within a loop pass, not when the kernel gives up the connect",
    );
  } finally {
    stuck.child.kill("SIGKILL");
    for (const c of queued) c.destroy();
    hole.kill("SIGKILL");
  }
}

const aedes = await Aedes.createBroker();
const server = net.createServer(aedes.handle);
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const port = server.address().port;

const control = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: "tf-control-test" });
// Every message the control client sees, as "topic payload[ retained]" lines.
const seen = new EventEmitter();
control.on("message", (topic, payload, packet) => {
  seen.emit("line", `${topic} ${payload.toString()}${packet.retain ? " retained" : ""}`);
});
await control.subscribeAsync(["tf/report/+", "tf/config/+", "tf/status/+", "tf/register/+"], { qos: 1 });

const sw = standIn("sw-1", port);
const lamp = standIn("lamp-1", port);
try {
  check(await sw.ready, "sw-1 syncs and prints ready");
  check(await lamp.ready, "lamp-1 syncs and prints ready");

  const paired = waitFor(seen, (l) => l === "tf/config/lamp-1 C1 1 sw-1");
  await control.publishAsync("tf/subscribe/lamp-1", "F1 sw-1", { qos: 1 });
  check(await paired, "lamp-1 follows sw-1 and publishes its config C1 1 sw-1");

  const swLed = waitFor(sw.out, (l) => l === "led 1");
  const lampLed = waitFor(lamp.out, (l) => l === "led 1");
  const forwarded = waitFor(seen, (l) => l === "tf/report/lamp-1 R1 1 1 sw-1");
  sw.child.stdin.write("press\n");
  check(await swLed, "a press on sw-1 turns its LED on");
  check(await lampLed, "lamp-1's LED follows");
  check(await forwarded, "lamp-1 re-reports the press with sw-1's stamp (R1 1 1 sw-1)");

  // A session the broker closes (a keepalive cut, a broker that drops it) is tried again at once when
  // the last attempt is older than the reconnect period (2 s), as the sketch's keepSession() does;
  // the stand-in used to wait 1 s from the loss.
  await new Promise((resolve) => setTimeout(resolve, 2200));
  const lostAt = performance.now();
  const back = waitFor(sw.err, (l) => l === "connected");
  aedes.clients["tf-sw-1"]?.close();
  check(await back, "sw-1 connects again after the broker closed its session");
  const backMs = performance.now() - lostAt;
  check(backMs < 500, `and at once, as a board does (${Math.round(backMs)} ms)`);
  check(await waitFor(sw.out, (l) => l === "ready"), "and syncs again");

  const will = waitFor(seen, (l) => l === "tf/status/sw-1 T1 0");
  sw.child.stdin.end(); // power off: no DISCONNECT
  check(await will, "sw-1's last will T1 0 is published when it goes away");

  // A second board flashed with lamp-1's id: each connection takes the other's session over.
  const twin = standIn("lamp-1", port);
  let unreachable = 0;
  for (const s of [lamp, twin]) s.err.on("line", (l) => l.startsWith("cannot reach") && unreachable++);
  const clash = (l) =>
    l.startsWith("the broker closed this session 3 times in ") && l.includes("client id tf-lamp-1");
  const said = await Promise.race([waitFor(lamp.err, clash, 20_000), waitFor(twin.err, clash, 20_000)]);
  check(said, "a stand-in whose client id another client keeps taking over says so");
  check(unreachable === 0, "and does not call a session taken over a broker it cannot reach");
  twin.child.kill("SIGTERM");
} finally {
  for (const s of [sw, lamp]) if (s.child.exitCode === null) s.child.kill("SIGTERM");
  await control.endAsync();
  await new Promise((resolve) => server.close(resolve));
  await new Promise((resolve) => aedes.close(resolve));
}
// A broker that dies and is started again three times within 30 s (a crash loop under a service
// manager, a bad day's restarts): each loss is the broker's, and the attempt after it finds nothing
// listening. The stand-in counted every lost session towards a client id clash and said, on every
// stand-in of the lab, that another client was taking its session over.
{
  const looping = await Aedes.createBroker();
  const sockets = new Set();
  const listen = (p) => {
    const srv = net.createServer((sock) => {
      sockets.add(sock);
      sock.on("close", () => sockets.delete(sock));
      looping.handle(sock);
    });
    return new Promise((resolve) => srv.listen(p, "127.0.0.1", () => resolve(srv)));
  };
  let srv = await listen(0);
  const loopPort = srv.address().port;
  const node = standIn("loop-1", loopPort);
  let clashes = 0;
  let refused = 0;
  node.err.on("line", (l) => {
    if (l.startsWith("the broker closed this session")) clashes++;
    if (l.startsWith("cannot reach the broker")) refused++;
  });
  try {
    let back = 0;
    for (let i = 0; i < 3; i++) {
      if (await waitFor(node.err, (l) => l === "connected")) back++;
      // Killed: its sockets closed by the kernel, nothing listening until it is started again, a
      // little longer than the stand-in's reconnect period (2 s), so its next attempt finds it away.
      const closed = new Promise((resolve) => srv.close(resolve));
      for (const sock of sockets) sock.destroy();
      await closed;
      await new Promise((resolve) => setTimeout(resolve, 2500));
      srv = await listen(loopPort);
    }
    if (await waitFor(node.err, (l) => l === "connected")) back++;
    check(back === 4 && refused > 0, "a stand-in rides out a broker restarted three times in 30 s");
    check(clashes === 0, "and does not take the broker's restarts for another client with its id");
  } finally {
    node.child.kill("SIGKILL");
    const closed = new Promise((resolve) => srv.close(resolve));
    for (const sock of sockets) sock.destroy();
    await closed;
    await new Promise((resolve) => looping.close(resolve));
  }
}
// A broker (or something between) that closes each connection right after its CONNACK, with no
// other client with the stand-in's id anywhere: three such losses read to the stand-in as another
// client taking its session over. A takeover closes a session the broker had served (its SUBACK).
{
  const cutter = net.createServer((sock) => {
    sock.on("error", () => {});
    sock.once("data", () => sock.end(Buffer.from([0x20, 0x02, 0x00, 0x00]))); // CONNACK 0, then FIN
  });
  await new Promise((resolve) => cutter.listen(0, "127.0.0.1", resolve));
  const node = standIn("cut-1", cutter.address().port);
  const lines = [];
  node.err.on("line", (l) => l.startsWith("the broker closed this session") && lines.push(l));
  try {
    const said = await waitFor(
      node.err,
      (l) => l.startsWith("the broker closed this session 3 times"),
      20_000,
    );
    check(
      said &&
        lines.every((l) => l.includes("each right after accepting it (CONNACK), before answering anything")),
      "a stand-in whose sessions the broker closes right after their CONNACK says so",
    );
    check(
      lines.every((l) => !l.includes("another client is connecting")),
      "and does not say another client is connecting with its id",
    );
  } finally {
    node.child.kill("SIGKILL");
    await new Promise((resolve) => cutter.close(resolve));
  }
}
check(await frozenSaid, "a stand-in whose CONNECT goes unanswered gives up after 15 s and says why");
frozenIn.child.kill("SIGKILL");
frozen.child.kill("SIGKILL");
console.log(`standin-pair: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
