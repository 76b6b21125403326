/**
 * Commands are never retained (protocol.md §3), nor registers: a set, pairing command, query or
 * register published with the retain flag reaches the subscribers of the moment, but the broker
 * keeps nothing of it (a node would carry the command out again at every reconnect, a control server
 * take the register for the node), clears what its topic held, and says so; a store holding such
 * messages from before is cleared of them at the start. Other retained messages are untouched.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { openStore } from "../persistence.js";
import { clearStoredCommands, retainedCommand } from "../retained-commands.js";
import { RetainedIndex, type RetainedPacket } from "../retained-index.js";
import { nextMessage } from "./helpers.js";
import { retainedBrokers } from "./retained-brokers.js";

type Line = { msg: string; topic?: string; payload?: string };

const { start, connect, retained, dataDir: newDataDir } = retainedBrokers("retained-commands");

describe("retainedCommand", () => {
  const p = (topic: string, payload: string): RetainedPacket => ({ topic, payload: Buffer.from(payload) });
  it("names a protocol command under any prefix, and nothing else", () => {
    expect(retainedCommand(p("tf/state/n-0020", "S1 1 3"))).toBe("state");
    expect(retainedCommand(p("lab/subscribe/lamp-1", "F1 n-0000"))).toBe("subscribe");
    expect(retainedCommand(p("tf/unsubscribe/lamp-1", "U1 n-0000"))).toBe("unsubscribe");
    expect(retainedCommand(p("tf/query", "Q1"))).toBe("query");
    expect(retainedCommand(p("tf/forget/n-0020", "D1"))).toBe("forget");
    expect(retainedCommand(p("tf/register/n-0003", "G1 real uno-w5100 1.0"))).toBe("register");
    expect(retainedCommand(p("tf/register/n-0003", "G1 toaster"))).toBeUndefined();
    expect(retainedCommand(p("tf/forget/n-0020", "D1 x"))).toBeUndefined();
    expect(retainedCommand(p("home/kitchen/forget", "D1"))).toBeUndefined();
    expect(retainedCommand(p("tf/report/n-0020", "R1 1 3 n-0020"))).toBeUndefined();
    expect(retainedCommand(p("tf/config/n-0020", "C1 2 n-0019"))).toBeUndefined();
    expect(retainedCommand(p("home/state/kitchen", "on"))).toBeUndefined();
    expect(retainedCommand(p("tf/state/n-0020", ""))).toBeUndefined();
    expect(retainedCommand(p("a-prefix-too-long/state/x", "S1 1 3"))).toBeUndefined();
    expect(retainedCommand(p("state", "S1 1 3"))).toBeUndefined();
  });
});

describe.each([
  ["in memory", false],
  ["in LevelDB", true],
])("a retained command %s", (_name, level) => {
  const dataDir = async () => (level ? await newDataDir() : undefined);

  it("reaches the subscribers of the moment, is not kept, clears its topic and is logged", async () => {
    const lines: Line[] = [];
    const b = await start({ dataDir: await dataDir() }, lines);
    const pub = await connect(b.url, "tool");
    // A retained junk payload on the topic before: not a command, kept, and then cleared.
    await pub.publishAsync("tf/state/n-0020", "junk", { qos: 1, retain: true });
    const node = await connect(b.url, "tf-n-0020");
    const junk = nextMessage(node, "tf/state/n-0020");
    await node.subscribeAsync("tf/state/n-0020", { qos: 1 });
    expect(await junk).toBe("junk");
    const live = nextMessage(node, "tf/state/n-0020");
    await pub.publishAsync("tf/state/n-0020", "S1 1 3", { qos: 1, retain: true });
    expect(await live).toBe("S1 1 3");
    await pub.publishAsync("tf/report/n-0020", "R1 1 4 n-0020", { qos: 1, retain: true });
    await pub.publishAsync("home/state/kitchen", "on", { qos: 1, retain: true });
    await pub.publishAsync("tf/query", "Q1", { qos: 1, retain: true });
    // A register is no command, but never retained either: a twins service took it for the node.
    await pub.publishAsync("tf/register/n-0003", "G1 real uno-w5100 1.0", { qos: 1, retain: true });
    expect(
      await retained(b.url, [
        "tf/state/n-0020",
        "tf/report/n-0020",
        "home/state/kitchen",
        "tf/query",
        "tf/register/n-0003",
      ]),
    ).toEqual({
      "tf/report/n-0020": "R1 1 4 n-0020",
      "home/state/kitchen": "on",
    });
    const warned = lines.filter((l) => l.msg.startsWith("retained "));
    expect(warned.map((l) => [l.topic, l.payload])).toEqual([
      ["tf/state/n-0020", "S1 1 3"],
      ["tf/query", "Q1"],
      ["tf/register/n-0003", "G1 real uno-w5100 1.0"],
    ]);
    expect(warned[0]?.msg).toContain("commands are never retained");
    expect(warned[2]?.msg).toMatch(/^retained register not kept: a register is never retained/);
  });
});

describe("a data directory holding retained commands from before", () => {
  it("is cleared of them as the broker starts", async () => {
    const dir = await newDataDir();
    // Written into the store directly, as a broker without this rule left them.
    const before = await openStore(dir);
    const store = before.persistence as unknown as { storeRetained(p: object): Promise<void> };
    for (const [topic, payload] of [
      ["tf/state/n-0020", "S1 1 3"],
      ["tf/register/n-0003", "G1 real uno-w5100 1.0"],
      ["tf/report/n-0020", "R1 1 4 n-0020"],
    ] as const)
      await store.storeRetained({
        cmd: "publish",
        topic,
        payload: Buffer.from(payload),
        qos: 1,
        retain: true,
      });
    await before.close();
    const lines: Line[] = [];
    const b = await start({ dataDir: dir }, lines);
    expect(await retained(b.url, ["tf/state/n-0020", "tf/register/n-0003", "tf/report/n-0020"])).toEqual({
      "tf/report/n-0020": "R1 1 4 n-0020",
    });
    expect(lines.filter((l) => l.msg.startsWith("cleared 2 retained commands or registers"))).toHaveLength(1);
  });
});

describe("clearStoredCommands", () => {
  it("clears the commands a store holds from before, and nothing else", async () => {
    const index = new RetainedIndex();
    const store = {
      async storeRetained(packet: RetainedPacket): Promise<void> {
        index.store(packet);
      },
    };
    for (const [topic, payload] of [
      ["tf/state/n-0020", "S1 1 3"],
      ["tf/subscribe/lamp-1", "F1 n-0000"],
      ["tf/report/n-0020", "R1 1 4 n-0020"],
      ["home/state/kitchen", "on"],
    ] as const)
      index.store({ topic, payload: Buffer.from(payload) });
    const lines: Line[] = [];
    const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    expect(await clearStoredCommands(store, index, logger)).toBe(2);
    expect([...index.packets()].map((p) => p.topic)).toEqual(["tf/report/n-0020", "home/state/kitchen"]);
    expect(lines.map((l) => l.msg)).toEqual([expect.stringMatching(/^cleared 2 retained commands/)]);
  });
});
