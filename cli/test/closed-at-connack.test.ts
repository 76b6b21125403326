/**
 * A broker (or something between) that closes one node's connection right after its CONNACK, again
 * and again, with no other client using the node's id anywhere: the run tells that as the broker
 * ending the node's sessions, not as a client id clash — in the log, the progress line, the report,
 * the summary and `--assert`'s failures. A real takeover (cli/test/ids-in-use.test.ts) closes
 * sessions the broker had served; these were never answered past the CONNACK.
 */
import net from "node:net";
import mqttPacket from "mqtt-packet";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type BrokerHost, openBrokerHost } from "../../fleet/broker-host.js";
import { requirementFailures } from "../../fleet/report.js";
import { FleetRun } from "../../fleet/run.js";
import { CUT_CLOSES } from "../../fleet/session-clashes.js";
import { idleShard } from "../../fleet/test/idle-shard.js";
import { RealScheduler } from "../../node/scheduler.js";
import { progressLine, summary } from "../sim-summary.js";

let broker: BrokerHost;
let proxy: net.Server;
let url: string;
/** How many connections of tf-n-0001 the proxy answered with a CONNACK and closed. */
let cut = 0;

/**
 * In front of the broker: tf-n-0001's CONNECT is answered with CONNACK 0 and the connection closed
 * at once; every other connection is passed on as it is.
 */
function closingProxy(port: number): net.Server {
  return net.createServer((sock) => {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const seen: Buffer[] = [];
    let decided = false;
    sock.on("error", () => {});
    const read = (d: Buffer) => {
      seen.push(d);
      parser.parse(d);
    };
    sock.on("data", read);
    parser.on("packet", (pk) => {
      if (decided || pk.cmd !== "connect") return;
      decided = true;
      sock.off("data", read);
      if (pk.clientId === "tf-n-0001") {
        cut++;
        sock.end(mqttPacket.generate({ cmd: "connack", returnCode: 0, sessionPresent: false }));
        return;
      }
      const up = net.connect(port, "127.0.0.1", () => {
        for (const b of seen) up.write(b);
        sock.pipe(up);
        up.pipe(sock);
      });
      up.on("error", () => sock.destroy());
      up.on("close", () => sock.destroy());
      sock.on("close", () => up.destroy());
    });
  });
}

beforeEach(async () => {
  broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
  proxy = closingProxy(Number(new URL(broker.url).port));
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  url = `mqtt://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  cut = 0;
});

afterEach(async () => {
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
  await broker.close();
});

it("tells a broker closing a node's sessions right after their CONNACK from another client with its id", async () => {
  const run = await FleetRun.start({ ...idleShard(url, 1), fresh: true });
  const logged: string[] = [];
  run.on("log", (line, level) => logged.push(`${level} ${line}`));
  await new Promise<void>((resolve) => {
    // Either finding ends the wait: told as a clash, the node is said to be another client's too.
    const check = () => {
      const p = run.progress();
      if (p.cutAtConnack === 1 || p.clashes !== undefined) resolve();
      else run.sched.at(run.sched.now() + 50, check);
    };
    check();
  });
  const progress = run.progress();
  run.cut();
  const r = await run.done;
  expect(cut).toBeGreaterThanOrEqual(CUT_CLOSES);
  expect(progress.clashes).toBeUndefined();
  expect(progressLine(progress, run.sched.now())).toMatch(/CLOSED AT CONNACK 1/);
  expect(progressLine(progress, run.sched.now())).not.toMatch(/IDS IN USE/);
  expect(logged).toEqual([
    expect.stringMatching(
      /^error n-0001: the broker closed its session right after accepting it \(CONNACK\), before answering anything, 5 times in \d+\.\d s, never once after serving it, while it stayed up: the broker, or something between, ends the node's sessions itself .* not another client with its id/,
    ),
  ]);
  expect(r.sessionClashes).toBeUndefined();
  expect(r.sessionsCutAtConnack).toMatchObject({ nodes: 1, ids: ["n-0001"] });
  expect(r.sessionsCutAtConnack?.closes).toBeGreaterThanOrEqual(CUT_CLOSES);
  const text = summary(r);
  expect(text).not.toMatch(/ids in use/);
  expect(text).toMatch(
    /FAIL closed at once 1 nodes' sessions closed by the broker right after it accepted them \(CONNACK\), before it answered anything, \d+ times \(n-0001\)/,
  );
  expect(requirementFailures(r)).toContainEqual(
    expect.stringMatching(/^1 nodes' sessions were closed by the broker right after it accepted them/),
  );
  expect(requirementFailures(r).join("\n")).not.toMatch(/taken over/);
});
