/**
 * What one fuzz connection does, as a script of steps computed up front from `(seed, index)`: the
 * bytes it writes, when it pauses, waits for an answer, stops reading or holds the socket idle, and
 * how it leaves. Connection `index` of seed `s` is always the same script, whatever ran before it,
 * so one connection of a failing run can be replayed on its own.
 */

import mqttPacket from "mqtt-packet";
import seedrandom from "seedrandom";
import {
  chance,
  connectPacket,
  int,
  mutate,
  oddPacket,
  outOfPlacePacket,
  pick,
  publishPacket,
  type Rng,
  randomBytes,
  validPacket,
} from "./packets.js";

export type Step =
  /** Bytes to write; `packets` is how many packets (whole or not) they stand for. */
  | { readonly op: "write"; readonly bytes: Buffer; readonly packets: number }
  | { readonly op: "pause"; readonly ms: number }
  /**
   * Wait until the broker has sent something (or closed), as long as the run waits for a verdict:
   * a non-reader stops reading next, and an answer that came later would never be seen.
   */
  | { readonly op: "await-answer" }
  /** Stop reading the socket: what the broker sends piles up on its side. */
  | { readonly op: "stop-reading" }
  /** Keep the socket open and idle for `ms`, unless the broker closes it first. */
  | { readonly op: "hold"; readonly ms: number };

export type ScriptKind =
  | "session"
  | "connect-then-garbage"
  | "no-connect"
  | "bad-connect"
  | "random-bytes"
  | "silent"
  | "slowloris"
  | "non-reader"
  | "chunked";

export interface Script {
  readonly index: number;
  readonly kind: ScriptKind;
  readonly steps: readonly Step[];
  /** How the connection leaves once its steps are done: a FIN, or a reset (abrupt close). */
  readonly leave: "end" | "destroy";
}

/** Weights out of 100. */
const KINDS: readonly [ScriptKind, number][] = [
  ["session", 24],
  ["connect-then-garbage", 18],
  ["no-connect", 10],
  ["bad-connect", 16],
  ["random-bytes", 6],
  ["silent", 3],
  ["slowloris", 3],
  ["non-reader", 8],
  ["chunked", 12],
];

export function scriptFor(seed: string, index: number): Script {
  const rng: Rng = seedrandom(`${seed}:${index}`);
  let r = rng() * 100;
  let kind: ScriptKind = "session";
  for (const [k, w] of KINDS) {
    if (r < w) {
      kind = k;
      break;
    }
    r -= w;
  }
  const steps = BUILDERS[kind](rng);
  return { index, kind, steps, leave: chance(rng, 0.5) ? "end" : "destroy" };
}

const write = (bytes: Buffer, packets = 1): Step => ({ op: "write", bytes, packets });
const pause = (rng: Rng, maxMs: number): Step => ({ op: "pause", ms: int(rng, 0, maxMs) });

/** A client's packets after CONNECT, a share of them mutated and one in twenty odd, with short pauses. */
function traffic(rng: Rng, count: number, mutatedShare: number, maxPauseMs: number): Step[] {
  const steps: Step[] = [];
  for (let i = 0; i < count; i++) {
    const r = rng();
    const p =
      r < mutatedShare
        ? mutate(rng, validPacket(rng))
        : r < mutatedShare + 0.05
          ? oddPacket(rng)
          : validPacket(rng);
    steps.push(write(p));
    if (chance(rng, 0.5)) steps.push(pause(rng, maxPauseMs));
  }
  return steps;
}

const BUILDERS: Record<ScriptKind, (rng: Rng) => Step[]> = {
  session: (rng) => [
    write(connectPacket(rng)),
    { op: "await-answer" },
    ...traffic(rng, int(rng, 5, 40), 0.1, 50),
    ...(chance(rng, 0.6) ? [write(mqttPacket.generate({ cmd: "disconnect" }))] : []),
  ],
  "connect-then-garbage": (rng) => [
    write(connectPacket(rng)),
    { op: "await-answer" },
    ...traffic(rng, int(rng, 0, 5), 0, 20),
    ...Array.from({ length: int(rng, 1, 5) }, () => {
      const r = rng();
      return write(
        r < 0.2
          ? mutate(rng, outOfPlacePacket(rng))
          : r < 0.4
            ? oddPacket(rng)
            : mutate(rng, validPacket(rng)),
      );
    }),
    { op: "hold", ms: int(rng, 0, 2000) },
  ],
  "no-connect": (rng) => [
    ...Array.from({ length: int(rng, 1, 5) }, () =>
      write(pick(rng, [validPacket, outOfPlacePacket, oddPacket])(rng)),
    ),
    { op: "hold", ms: int(rng, 0, 2000) },
  ],
  "bad-connect": (rng) => [
    write(mutate(rng, connectPacket(rng))),
    ...traffic(rng, int(rng, 0, 5), 0.3, 20),
    { op: "hold", ms: int(rng, 0, 2000) },
  ],
  "random-bytes": (rng) => [
    write(randomBytes(rng, int(rng, 1, 2048)), 0),
    { op: "hold", ms: int(rng, 0, 2000) },
  ],
  silent: (rng) => [{ op: "hold", ms: int(rng, 1000, 40_000) }],
  slowloris: (rng) => {
    const connect = connectPacket(rng);
    const upTo = int(rng, 1, connect.length - 1);
    const steps: Step[] = [];
    for (let i = 0; i < upTo; i++) {
      steps.push(write(connect.subarray(i, i + 1), 0), { op: "pause", ms: int(rng, 50, 500) });
    }
    return [...steps, { op: "hold", ms: int(rng, 1000, 40_000) }];
  },
  "non-reader": (rng) => [
    write(connectPacket(rng)),
    { op: "await-answer" },
    write(
      mqttPacket.generate({
        cmd: "subscribe",
        messageId: int(rng, 1, 65535),
        subscriptions: [{ topic: pick(rng, ["#", "fz/#"]), qos: pick(rng, [0, 1, 2] as const) }],
      }),
    ),
    { op: "stop-reading" },
    // It keeps publishing a little while it reads nothing; what piles up for it is the fan-out of
    // everyone's traffic to its wildcard. (A flood of publishes is a load test, not this one's.)
    ...Array.from({ length: int(rng, 0, 30) }, () => [write(publishPacket(rng)), pause(rng, 50)]).flat(),
    { op: "hold", ms: int(rng, 1000, 15_000) },
  ],
  chunked: (rng) => {
    const packets = [connectPacket(rng), ...Array.from({ length: int(rng, 3, 20) }, () => validPacket(rng))];
    const stream = Buffer.concat(packets);
    const steps: Step[] = [];
    for (let at = 0; at < stream.length; ) {
      // Mostly a few bytes at a time, cutting through headers and lengths; now and then a longer run.
      const n = chance(rng, 0.8) ? int(rng, 1, 7) : int(rng, 8, 512);
      // The whole stream's packets are counted with its first fragment.
      steps.push(write(stream.subarray(at, at + n), at === 0 ? packets.length : 0));
      if (chance(rng, 0.2)) steps.push(pause(rng, 5));
      at += n;
    }
    return steps;
  },
};

/** Packets a script writes, whole, mutated or truncated (random bytes and a slowloris's count 0). */
export function packetsIn(script: Script): number {
  let n = 0;
  for (const s of script.steps) if (s.op === "write") n += s.packets;
  return n;
}
