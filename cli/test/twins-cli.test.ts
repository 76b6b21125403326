/**
 * The twins commands of the CLI (nodes, set, pair, unpair, twins) on a real broker on port 0: their
 * arguments checked before connecting, their effect on a live fleet and what they say.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CoreClient } from "../../node/mqtt-node.js";
import { DEFAULT_MAX_NODES, startTwins } from "../../twins/index.js";
import {
  changed,
  FINDS_RETAINED,
  type NodeOptions,
  rawClient,
  startNode,
  startTestBroker,
  type TestBroker,
  until,
  watchTwins,
} from "../../twins/test/helpers.js";
import { main } from "../main.js";
import { runMain } from "./run-main.js";

let broker: TestBroker;
const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const run = runMain;
async function setup(): Promise<void> {
  broker = await startTestBroker();
  open.push(broker);
}
async function node(id: string, opts: NodeOptions = {}): Promise<CoreClient> {
  const n = await startNode(broker.url, id, opts);
  open.push({ close: () => n.stop() });
  return n;
}

describe("twinfleet twins commands", () => {
  it("rejects bad arguments with a message naming what is wrong, before connecting", async () => {
    const url = "mqtt://127.0.0.1:1";
    // Each message says the command once: "twinfleet set: …", not "twinfleet set: set: …".
    expect(await run("set", "A", "maybe", "--broker", url)).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^twinfleet set: value must be on or off, not "maybe"\n/),
    });
    expect(await run("unpair", "A", "A", "--broker", url)).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^twinfleet unpair: a node cannot follow itself \(A\)\n/),
    });
    expect(await run("set", "bad/id", "on", "--broker", url)).toMatchObject({
      code: 2,
      err: expect.stringContaining('node "bad/id" is not a node id'),
    });
    // Quoted as JSON, cut at 60 characters (protocol/shown.ts): no control character reaches the terminal.
    expect(await run("set", "a\u001b[2Jb", "on", "--broker", url)).toMatchObject({
      code: 2,
      err: expect.stringContaining('node "a\\u001b[2Jb" is not a node id'),
    });
    expect((await run("set", "A", "x".repeat(5000), "--broker", url)).err).toContain(
      `not "${"x".repeat(60)}…"\n`,
    );
    expect(await run("pair", "A", "x".repeat(30), "--broker", url)).toMatchObject({
      code: 2,
      err: expect.stringContaining("source"),
    });
    expect((await run("nodes", "--broker", url, "--wait", "soon")).err).toContain(
      '--wait must be a whole number of milliseconds, at most 2147483647, not "soon"',
    );
    expect((await run("nodes", "--broker", url, "--wait", "010")).err).toContain(
      '--wait must be a whole number of milliseconds, at most 2147483647 (plain decimal digits only: no hex, octal, exponent, sign + or spaces), not "010"',
    );
    expect((await run("twins", "--broker", url, "--max-nodes", "0x10")).err).toContain(
      '--max-nodes must be a whole number of nodes, at least 1 (plain decimal digits only: no hex, octal, exponent, sign + or spaces), not "0x10"',
    );
    // Past a timer's range Node would wait 1 ms instead, with a TimeoutOverflowWarning.
    expect(await run("nodes", "--broker", url, "--wait", "2147483648")).toMatchObject({
      code: 2,
      err: expect.stringContaining(
        '--wait must be a whole number of milliseconds, at most 2147483647, not "2147483648"',
      ),
    });
    for (const empty of ["", " "]) {
      expect(await run("twins", "--broker", url, "--data", empty)).toMatchObject({
        code: 2,
        err: expect.stringContaining(
          `twinfleet twins: --data: must be a directory, got ${JSON.stringify(empty)}`,
        ),
      });
    }
    expect((await run("nodes")).err).toContain("--broker");
    for (const cmd of [["nodes"], ["set", "A", "on"], ["pair", "A", "B"], ["twins"]]) {
      expect(await run(...cmd, "--broker", url, "--prefix", "a/b")).toMatchObject({
        code: 2,
        err: expect.stringContaining('--prefix: topic prefix "a/b" must be 1-12 characters'),
      });
    }
    for (const bad of ["0", "-5", "many", "1.5"]) {
      expect(await run("twins", "--broker", url, "--max-nodes", bad)).toMatchObject({
        code: 2,
        err: expect.stringContaining(`--max-nodes must be a whole number of nodes, at least 1, not "${bad}"`),
      });
    }
  });

  it("twins has no --wait: the service waits for nothing, so the flag would be taken and ignored", async () => {
    expect(await run("twins", "--broker", "mqtt://127.0.0.1:1", "--wait", "abc")).toMatchObject({
      code: 2,
      err: expect.stringContaining("unknown option '--wait'"),
    });
    expect((await run("twins", "--help")).out).not.toContain("--wait");
    expect((await run("nodes", "--help")).out).toContain("--wait <ms>");
  });

  it("twins --help gives the service's own default for --max-nodes", async () => {
    const r = await run("twins", "--help");
    expect(r.out).toMatch(new RegExp(`--max-nodes <n>[\\s\\S]*default ${DEFAULT_MAX_NODES}\\)`));
  });

  it("nodes, set, pair and unpair act on a live fleet", async () => {
    await setup();
    const b = await node("B");
    const a = await node("A");
    // The kinds come from the nodes' answers to the command's query, within its wait: the default
    // 1.5 s, as 300 ms may not be enough for that round trip on a busy host.
    const listed = await run("nodes", "--broker", broker.url);
    expect(listed.code).toBe(0);
    const nodes = JSON.parse(listed.out) as { id: string; kind: string; presence: string }[];
    expect(nodes.map((n) => [n.id, n.kind, n.presence])).toEqual([
      ["A", "sim", "online"],
      ["B", "sim", "online"],
    ]);

    const set = await run("set", "A", "on", "--broker", broker.url, "--wait", "300");
    expect(set.code).toBe(0);
    expect(JSON.parse(set.out)).toMatchObject({ node: "A", on: true, confirmed: true });
    expect(a.state.on).toBe(true);

    const paired = await run("pair", "A", "B", "--broker", broker.url, "--wait", "300");
    expect(JSON.parse(paired.out)).toMatchObject({ follows: ["B"], confirmed: true });
    expect(paired.err).not.toContain("never been seen");
    b.press();
    b.press();
    await until(() => a.state.stamp.origin === "B", "A mirrors B");

    const unpaired = await run("unpair", "A", "B", "--broker", broker.url, "--wait", "300");
    expect(JSON.parse(unpaired.out)).toMatchObject({ follows: [], confirmed: true });
    expect(a.state.sources).toEqual([]);

    const offline = await run("set", "ghost", "on", "--broker", broker.url, "--wait", "100");
    expect(offline).toMatchObject({ code: 1, err: 'twinfleet set: no node "ghost" on the broker\n' });
  });

  it("pair on an offline node says it is pending; a running twins service confirms it when the node returns", async () => {
    await setup();
    const service = watchTwins(await startTwins({ url: broker.url }));
    open.push(service);
    await node("B");
    const a = await startNode(broker.url, "A");
    await until(() => service.get("A")?.presence === "online", "A online");
    await a.stop();
    await until(() => service.get("A")?.presence === "offline", "A offline");

    const paired = await run("pair", "A", "B", "--broker", broker.url, "--wait", "300");
    expect(paired.code).toBe(0);
    expect(JSON.parse(paired.out)).toMatchObject({ follower: "A", confirmed: false, pending: true });
    expect(paired.err).toContain("twinfleet pair: A is offline: the pairing is pending until it returns");
    expect(paired.err).toContain(service.clientId);
    await until(() => service.get("A")?.desired.sources.join() === "B", "the service took the desire");
    expect(service.get("A")?.pairing).toBe("pending");

    const back = await node("A", FINDS_RETAINED);
    expect(back.state.sources).toEqual(["B"]);
    await until(() => service.get("A")?.pairing === "confirmed", "confirmed when A returned");
  });

  it("pair on an offline node with no twins service running says nothing will confirm it", async () => {
    await setup();
    const paired = await run("pair", "ghost", "B", "--broker", broker.url, "--wait", "100");
    expect(paired.code).toBe(0);
    expect(JSON.parse(paired.out)).toMatchObject({ confirmed: false, pending: true });
    expect(paired.err).toContain("No twins service runs on this fleet");
    // ghost never registered: not "offline", which would hide a mistyped id.
    expect(paired.err).toContain("twinfleet pair: ghost has never been seen on this broker (check the id)");
    // Nor B, its source: told, as a typo for a source pairs with nothing.
    expect(paired.err).toContain(
      "twinfleet pair: B has never been seen on this broker (check the id): ghost follows it once it reports\n",
    );
  });

  it("pair of an offline node that already follows the source says so and writes nothing", async () => {
    await setup();
    expect((await run("pair", "ghost", "B", "--broker", broker.url, "--wait", "100")).code).toBe(0);
    // Every config written on ghost's topic from now on (the retained one is delivered first, flagged).
    const watcher = await rawClient(broker.url);
    open.push({ close: () => watcher.endAsync() });
    const written: string[] = [];
    watcher.on("message", (_t, payload, packet) => {
      if (!packet.retain) written.push(payload.toString());
    });
    await watcher.subscribeAsync("tf/config/ghost", { qos: 1 });
    const again = await run("pair", "ghost", "B", "--broker", broker.url, "--wait", "100");
    expect(again.code).toBe(0);
    // It said "the pairing is pending until it returns (its retained config was written, version 1)".
    expect(again.err).toContain(
      "twinfleet pair: ghost already follows B (its retained config, version 1, names B: nothing written); it is offline.\n",
    );
    expect(again.err).not.toContain("was written");
    // The retained config is still version 1, and nothing was published on its topic.
    const read = await run("nodes", "--broker", broker.url, "--wait", "100");
    expect(JSON.parse(read.out).find((n: { id: string }) => n.id === "ghost")?.config).toMatchObject({
      version: 1,
      sources: ["B"],
    });
    expect(written).toEqual([]);
  });

  it("pair of a 9th source is refused with the exact unpair that makes room", async () => {
    await setup();
    const service = watchTwins(await startTwins({ url: broker.url, prefix: "p2" }));
    open.push(service);
    for (let i = 0; i < 8; i++) await service.pair("ghost", `S${i}`);
    const on = ["--broker", broker.url, "--prefix", "p2", "--wait", "100"];
    const ninth = await run("pair", "ghost", "S8", ...on);
    // It named the limit and stopped there, with nothing to do about it.
    expect(ninth).toMatchObject({
      code: 1,
      out: "",
      err: `twinfleet pair: ghost already follows 8 nodes (S0, S1, S2, S3, S4, S5, S6, S7), the protocol's limit: unpair one of them first: twinfleet unpair ghost S0 --broker ${broker.url} --prefix p2\n`,
    });
    const made = await run("unpair", "ghost", "S0", ...on);
    expect(made.code).toBe(0);
    expect(made.err).toMatch(/^twinfleet unpair: ghost is offline: the pairing is pending/);
    const again = await run("pair", "ghost", "S8", ...on);
    expect(again.code).toBe(0);
    // Written, not yet taken: the node away follows what its config held, the 8th source pending.
    expect(JSON.parse(again.out)).toMatchObject({
      paired: true,
      follows: ["S1", "S2", "S3", "S4", "S5", "S6", "S7"],
      pending: true,
    });
  });

  it("set on a node online only by a status the broker kept says the node sent nothing", async () => {
    await setup();
    // What a broker restarted on its store keeps of a node that died meanwhile: its status, not its will.
    const writer = await rawClient(broker.url);
    await writer.publishAsync("tf/status/ghost", "T1 1", { qos: 1, retain: true });
    await writer.endAsync();
    const set = await run("set", "ghost", "on", "--broker", broker.url, "--wait", "100");
    expect(set.code).toBe(0);
    expect(JSON.parse(set.out)).toMatchObject({ node: "ghost", confirmed: false });
    expect(set.err).toBe(
      "twinfleet set: ghost has not reported the new state yet, and sent nothing during the command, not even a report answering the set: it is online only by the status the broker kept, which a broker restarted on its store keeps without the node's last will; the node may be gone (a longer --wait gives a slow one more time)\n",
    );
  });

  it("twins runs the service with a data dir until SIGINT, its page healthy once connected", async () => {
    await setup();
    const dir = await mkdtemp(join(tmpdir(), "twins-cli-"));
    open.push({ close: () => rm(dir, { recursive: true, force: true }) });
    let err = "";
    const token = "twins-run-token-0123456789";
    const running = main(
      [
        "--log-level",
        "debug",
        "twins",
        "--broker",
        broker.url,
        "--data",
        dir,
        "--http",
        "0",
        "--http-token",
        token,
      ],
      {
        stdout: () => {},
        stderr: (s) => {
          err += s;
          changed();
        },
      },
    );
    // Connected, not only started (it serves before it connects): lamp-1's register is heard.
    await until(() => err.includes("connected and queried"), "the service connected");
    await node("lamp-1");
    // A register is a debug line (docs/cli.md, "Logs").
    await until(() => /DEBUG registered node=lamp-1/.test(err), "a registered event logged");
    // The page opened while the service connected: it must not keep the broker as not reached (it
    // answered 503 "the broker has not been reached" for as long as the service ran).
    const origin = /web: (http:\/\/127\.0\.0\.1:\d+)\//.exec(err)?.[1];
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const fleet = (await (await fetch(`${origin}/api/fleet`, auth)).json()) as { faults: unknown[] };
    expect(fleet.faults).toEqual([]);
    const metrics = await (await fetch(`${origin}/metrics`, auth)).text();
    expect(metrics).toMatch(/twinfleet_twins_broker\{state="up"\} 1/);
    process.emit("SIGINT");
    expect(await running).toBe(0);
    const stored = JSON.parse(await readFile(join(dir, "twins.json"), "utf8"));
    expect(stored.nodes["lamp-1"]).toMatchObject({ kind: "sim", sources: [] });
  });

  it("twins at --max-nodes logs the twins it forgets for room a few a minute, not a line per made-up id", async () => {
    await setup();
    let err = "";
    const running = main(["twins", "--broker", broker.url, "--max-nodes", "3"], {
      stdout: () => {},
      stderr: (s) => {
        err += s;
        changed();
      },
    });
    await until(() => err.includes("connected and queried"), "the service connected");
    const raw = await rawClient(broker.url);
    open.push({ close: () => raw.endAsync() });
    for (let i = 0; i < 200; i++) {
      await raw.publishAsync(`tf/status/m-${i}`, "T1 1", { qos: 1 });
      await raw.publishAsync(`tf/status/m-${i}`, "T1 0", { qos: 1 });
    }
    await until(() => (err.match(/forgotten to make room/g) ?? []).length >= 5, "the first ones told");
    process.emit("SIGINT");
    expect(await running).toBe(0);
    // 197 forgotten: 5 lines of their own, and the rest counted in one when the service stops.
    expect(err.match(/WARN {2}forgotten to make room at --max-nodes/g)).toHaveLength(5);
    expect(err).toMatch(
      /WARN {2}192 more nodes forgotten to make room at --max-nodes in the minute, besides the 5 named one by one \(first m-5, m-6, /,
    );
  });

  it("twins says so when another twins service already controls the fleet", async () => {
    await setup();
    const other = await startTwins({ url: broker.url, clientId: "tf-twins-first" });
    open.push({ close: () => other.close() });
    let err = "";
    const running = main(["twins", "--broker", broker.url], {
      stdout: () => {},
      stderr: (s) => {
        err += s;
        changed();
      },
    });
    await until(() => err.includes("another twins service"), "the warning");
    expect(err).toMatch(
      /WARN {2}twins: another twins service controls this fleet \(tf-twins-first since \S+\): each sends its own desired pairings and sets, and they undo each other's; run one per fleet \(one that no longer runs left its presence on a broker that lost its last will, after a power loss: clear it with an empty retained message, mosquitto_pub -r -n -t tf\/control\/tf-twins-first\)/,
    );
    process.emit("SIGINT");
    expect(await running).toBe(0);
  });
});
