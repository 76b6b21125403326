/**
 * The conformance check on the connection's read path (framing across any chunking, what passes and what does not,
 * the CONNACK before the close) and its options: limits, --deny-subscribe, their validation.
 */
import { Duplex } from "node:stream";
import type { Client, Subscription } from "aedes";
import fc from "fast-check";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { denySubscribeHook, filterUnder } from "../acl.js";
import { ConformanceError, InboundGate, topicFilterProblem } from "../conformance.js";
import { FrameLimitedStream } from "../frame-limit.js";
import { parseBrokerCommandOptions, resolveBrokerOptions } from "../options.js";
import { connect, PINGREQ, publish, subscribe } from "./conformance/bytes.js";

const LIMITS = { maxClientIdBytes: 256, maxFiltersPerSubscribe: 64 };

/** A stand-in for the socket: what the client sends is pushed in; what the broker writes is kept. */
function fakeSocket() {
  const written: Buffer[] = [];
  let ended = false;
  const inner = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk);
      cb();
    },
    final(cb) {
      ended = true;
      cb();
    },
  });
  return { inner, written, ended: () => ended };
}

/** Feeds `data` in the given chunks; resolves with what came out and the error that ended it, if any. */
async function run(data: Buffer, cuts: number[]) {
  const { inner, written, ended } = fakeSocket();
  const stream = new FrameLimitedStream(inner, 64 * 1024, undefined, new InboundGate(LIMITS));
  const out: Buffer[] = [];
  stream.on("data", (c: Buffer) => out.push(c));
  const finished = new Promise<Error | undefined>((resolve) => {
    stream.once("error", resolve);
    stream.once("close", () => resolve(undefined));
  });
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b).concat(data.length)) {
    if (cut > start) inner.push(data.subarray(start, cut));
    start = Math.max(start, cut);
  }
  await new Promise((resolve) => setImmediate(resolve));
  const closedEarly = stream.destroyed;
  if (!closedEarly) stream.destroy();
  const error = await finished;
  return {
    passed: Buffer.concat(out),
    error: closedEarly ? error : undefined,
    written: Buffer.concat(written),
    ended,
  };
}

const VALID = Buffer.concat([
  connect({ id: "n1", will: { topic: "w/n1", message: "gone" }, username: "u", password: "p" }),
  subscribe(1, ["tf/+/report", 1], ["tf/#", 0]),
  publish("tf/state/n1", "1", { qos: 1, id: 7 }),
  publish("tf/state/n1", "x".repeat(300)),
  PINGREQ,
]);

describe("FrameLimitedStream with an InboundGate", () => {
  it("passes a valid packet stream through unchanged, however it is chunked", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: VALID.length }), { maxLength: 12 }),
        async (cuts) => {
          const { passed, error } = await run(VALID, cuts);
          expect(error).toBeUndefined();
          expect(passed.equals(VALID)).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("passes exactly the packets before a bad one, then closes naming the clause", async () => {
    const good = Buffer.concat([connect({ id: "n1" }), PINGREQ]);
    const data = Buffer.concat([good, publish("a/+", "x"), PINGREQ]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: data.length }), { maxLength: 6 }), async (cuts) => {
        const { passed, error } = await run(data, cuts);
        expect(passed.equals(good)).toBe(true);
        expect(error).toBeInstanceOf(ConformanceError);
        expect((error as ConformanceError).violation.clause).toBe("MQTT-3.3.2-2");
      }),
      { numRuns: 30 },
    );
  });

  it("answers an unsupported protocol level with CONNACK 0x01 and ends the connection", async () => {
    const { passed, error, written, ended } = await run(connect({ level: 9 }), []);
    expect(passed.length).toBe(0);
    expect(written.toString("hex")).toBe("20020001");
    expect(ended()).toBe(true);
    expect(error?.message).toBe("MQTT-3.1.2-2: protocol MQTT level 9 is not supported");
  });

  it("closes on a SUBSCRIBE over the filter limit, the error naming the flag that sets it", async () => {
    const filters = Array.from({ length: 65 }, (_, i): [string, number] => [`f/${i}`, 0]);
    // The error is the one that closed the stream before the end of the input.
    const { error } = await run(Buffer.concat([connect(), subscribe(7, ...filters)]), []);
    // It named the library's option (maxFiltersPerSubscribe), which a broker's operator never typed.
    expect(error?.message).toBe(
      "--max-filters-per-subscribe: SUBSCRIBE has more than 64 topic filters, this broker's limit: the connection is closed (MQTT 3.1.1 has no refusal for a whole SUBSCRIBE; raise the limit for a client that needs more)",
    );
  });

  it("answers a client id over the limit with CONNACK 0x02", async () => {
    const { written, error } = await run(connect({ id: "x".repeat(257) }), []);
    expect(written.toString("hex")).toBe("20020002");
    expect(error?.message).toContain("257 bytes is longer than the 256-byte limit");
  });
});

describe("topic filters", () => {
  it.each([
    ["a/b", undefined],
    ["+/+/#", undefined],
    ["#", undefined],
    ["", "MQTT-4.7.3-1: the filter is empty"],
    ["a/#/b", "MQTT-4.7.1-2: '#' must be a whole level and the last one"],
    ["a#", "MQTT-4.7.1-2: '#' must be a whole level and the last one"],
    ["a+", "MQTT-4.7.1-3: '+' must be a whole level"],
  ])("%j: %s", (filter, problem) => {
    expect(topicFilterProblem(filter)).toBe(problem);
  });

  it.each([
    ["test/nosubscribe", "test/nosubscribe", true],
    ["test/nosubscribe", "test/nosubscribe/x", false],
    ["test/#", "test/nosubscribe/x", true],
    ["test/#", "test", true],
    ["test/+", "test/a", true],
    ["test/+", "test/+", true],
    ["test/+", "test/a/b", false],
    ["test/a", "test/+", false],
  ])("deny pattern %j on filter %j: %s", (pattern, filter, under) => {
    expect(filterUnder(pattern, filter)).toBe(under);
  });
});

describe("denySubscribeHook", () => {
  const client = { id: "c1" } as Client;
  const ask = (hook: ReturnType<typeof denySubscribeHook>, topic: string) =>
    new Promise<Subscription | null>((resolve, reject) =>
      hook(client, { topic, qos: 1 } as Subscription, (err, sub) =>
        err ? reject(err) : resolve(sub ?? null),
      ),
    );

  it("refuses a filter under the list without asking the access rules, and hands on the rest", async () => {
    const asked: string[] = [];
    const rules: Parameters<typeof denySubscribeHook>[2] = (_c, sub, cb) => {
      asked.push(sub.topic);
      cb(null, sub.topic === "private" ? null : sub);
    };
    const hook = denySubscribeHook(["test/nosubscribe", "x/#"], pino({ level: "silent" }), rules);
    expect(await ask(hook, "x/a/b")).toBeNull();
    expect(await ask(hook, "test/nosubscribe")).toBeNull();
    expect(await ask(hook, "test/other")).toEqual({ topic: "test/other", qos: 1 });
    expect(await ask(hook, "private")).toBeNull();
    expect(asked).toEqual(["test/other", "private"]);
  });

  it("grants what is not on the list when there are no access rules", async () => {
    const hook = denySubscribeHook(["x/#"], pino({ level: "silent" }));
    expect(await ask(hook, "y")).toEqual({ topic: "y", qos: 1 });
  });
});

describe("options", () => {
  it("fills in the limits' defaults", () => {
    expect(resolveBrokerOptions({})).toMatchObject({
      maxClientIdBytes: 256,
      maxFiltersPerSubscribe: 64,
      denySubscribe: [],
    });
  });

  it.each([
    [{ maxClientIdBytes: 22 }, "options.maxClientIdBytes must be a byte count 23-65535"],
    [{ maxClientIdBytes: 70_000 }, "options.maxClientIdBytes must be a byte count 23-65535"],
    [{ maxFiltersPerSubscribe: 0 }, "options.maxFiltersPerSubscribe must be a count 1-65535"],
    [{ maxFiltersPerSubscribe: 2.5 }, "options.maxFiltersPerSubscribe must be a count 1-65535"],
    [
      { denySubscribe: ["ok/#", "a/#/b"] },
      `options.denySubscribe has an invalid topic filter "a/#/b": MQTT-4.7.1-2: '#' must be a whole level and the last one`,
    ],
  ])("names the field of %o", (options, message) => {
    expect(() => resolveBrokerOptions(options)).toThrow(message);
  });

  it("takes the flags", () => {
    const { broker } = parseBrokerCommandOptions({
      maxClientIdBytes: "64",
      maxFiltersPerSubscribe: "8",
      denySubscribe: ["test/nosubscribe", "private/#"],
    });
    expect(broker).toMatchObject({
      maxClientIdBytes: 64,
      maxFiltersPerSubscribe: 8,
      denySubscribe: ["test/nosubscribe", "private/#"],
    });
  });

  it.each([
    [{ maxClientIdBytes: "lots" }, "--max-client-id-bytes must be a byte count 23-65535"],
    [{ maxFiltersPerSubscribe: "0" }, "--max-filters-per-subscribe must be a count 1-65535"],
    [{ denySubscribe: ["a+"] }, `--deny-subscribe has an invalid topic filter "a+"`],
  ])("names the flag of %o", (flags, message) => {
    expect(() => parseBrokerCommandOptions(flags)).toThrow(message);
  });
});
