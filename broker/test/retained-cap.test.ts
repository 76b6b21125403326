/**
 * The cap on retained messages, on real sockets, in memory and in LevelDB: past it a retained message
 * on a new topic reaches the subscribers of the moment but is not kept; a topic that has one always
 * takes its replacement and its clearing, which make room again; a LevelDB store counts what it held
 * before a restart.
 */
import { describe, expect, it } from "vitest";
import { parseBrokerCommandOptions, resolveBrokerOptions } from "../options.js";
import { nextMessage } from "./helpers.js";
import { retainedBrokers } from "./retained-brokers.js";

type Line = { msg: string; topic?: string };

const { start, connect, closeClients, retained, dataDir: newDataDir } = retainedBrokers("retained-cap");

describe.each([
  ["in memory", false],
  ["in LevelDB", true],
])("the retained store's cap %s", (_name, level) => {
  const dataDir = async () => (level ? await newDataDir() : undefined);

  it("delivers a new topic's retained message past the cap without keeping it; replacements and clearings go through", async () => {
    const lines: Line[] = [];
    const b = await start({ maxRetainedMessages: 3, dataDir: await dataDir() }, lines);
    const pub = await connect(b.url, "pub");
    for (const t of ["a", "b", "c"]) await pub.publishAsync(t, `${t}1`, { qos: 1, retain: true });
    const sub = await connect(b.url, "sub");
    await sub.subscribeAsync("d");
    const live = nextMessage(sub, "d");
    await pub.publishAsync("d", "d1", { qos: 1, retain: true });
    expect(await live).toBe("d1"); // the subscriber of the moment gets it
    await pub.publishAsync("a", "a2-longer", { qos: 1, retain: true }); // a replacement is kept
    expect(await retained(b.url, ["a", "b", "c", "d"])).toEqual({ a: "a2-longer", b: "b1", c: "c1" });
    const full = lines.filter((l) => l.msg.startsWith("retained store full"));
    expect(full).toHaveLength(1);
    expect(full[0]?.topic).toBe("d");
    expect(b.figures.tally.retainedRefused).toBe(1);

    await pub.publishAsync("b", "", { qos: 1, retain: true }); // cleared: room for one
    await pub.publishAsync("d", "d2", { qos: 1, retain: true });
    expect(await retained(b.url, ["a", "b", "c", "d"])).toEqual({ a: "a2-longer", c: "c1", d: "d2" });
  });

  it("counts bytes of topics and payloads", async () => {
    const b = await start({ maxRetainedBytes: 20, dataDir: await dataDir() });
    const pub = await connect(b.url, "pub");
    await pub.publishAsync("t1", "x".repeat(10), { qos: 1, retain: true }); // 12 bytes
    await pub.publishAsync("t2", "y".repeat(10), { qos: 1, retain: true }); // 24: refused
    await pub.publishAsync("t3", "z".repeat(6), { qos: 1, retain: true }); // 20: kept
    expect(await retained(b.url, ["t1", "t2", "t3"])).toEqual({ t1: "x".repeat(10), t3: "z".repeat(6) });
  });
});

it("counts what a data directory held before a restart", async () => {
  const dir = await newDataDir();
  let b = await start({ maxRetainedMessages: 2, dataDir: dir });
  const pub = await connect(b.url, "pub");
  await pub.publishAsync("a", "1", { qos: 1, retain: true });
  await pub.publishAsync("b", "1", { qos: 1, retain: true });
  await closeClients();
  await b.close();
  b = await start({ maxRetainedMessages: 2, dataDir: dir });
  const again = await connect(b.url, "pub");
  await again.publishAsync("c", "1", { qos: 1, retain: true });
  expect(await retained(b.url, ["a", "b", "c"])).toEqual({ a: "1", b: "1" });
});

it("takes the caps as options and flags, naming a bad one", () => {
  expect(resolveBrokerOptions({})).toMatchObject({
    maxRetainedMessages: 1_000_000,
    maxRetainedBytes: 268_435_456,
  });
  expect(() => resolveBrokerOptions({ maxRetainedMessages: 0 })).toThrow(
    "options.maxRetainedMessages must be at least 1",
  );
  expect(parseBrokerCommandOptions({ maxRetained: "10", maxRetainedBytes: "4096" }).broker).toMatchObject({
    maxRetainedMessages: 10,
    maxRetainedBytes: 4096,
  });
  expect(() => parseBrokerCommandOptions({ maxRetainedBytes: "1M" })).toThrow(
    "--max-retained-bytes must be a whole number of at least 1",
  );
});
