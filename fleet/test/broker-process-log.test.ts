// A run's broker in its own process (`sim --broker-process`, fleet/broker-host.ts): what it warns of
// once it listens — a full data directory, a client cut at a limit — reaches the run's log, as the
// embedded broker thread's does. It was read until "listening" and thrown away after: a run whose
// --broker-data disk filled said nothing until a restart failed on it.
import { connect } from "node:net";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { wallScheduler } from "../../twins/clock.js";
import { ProcessBroker } from "../broker-host.js";
import { limitForStarts } from "./start-limit.js";

let broker: ProcessBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

it(
  "logs the broker process's warnings at their level, and not its info lines",
  async () => {
    const lines: { level: number; msg: string; clientId?: string }[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    broker = new ProcessBroker(undefined, wallScheduler, undefined, logger);
    await broker.start();
    // A CONNECT declaring 2 MB: over the 64 KiB packet limit, the client is cut with a warning.
    const socket = connect(broker.port, "127.0.0.1");
    socket.on("error", () => {});
    socket.write(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x01]));
    await expect
      .poll(() => lines.find((l) => l.msg === "connection cut: packet limit"))
      .toEqual(expect.objectContaining({ level: 40 }));
    socket.destroy();
    expect(lines.filter((l) => l.level < 40)).toEqual([]);
  },
  limitForStarts(1),
);

it(
  "passes on a warning that it listens beyond loopback, unless its network is the run's own",
  async () => {
    const seen = async (place: { private?: boolean }) => {
      const lines: { msg: string }[] = [];
      const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
      broker = new ProcessBroker(
        undefined,
        wallScheduler,
        { prefix: [], listen: "0.0.0.0", urlHost: "127.0.0.1", ...place },
        logger,
      );
      await broker.start();
      // Its warnings come after the listening line: one packet-limit cut marks where they have been read to.
      const socket = connect(broker.port, "127.0.0.1");
      socket.on("error", () => {});
      socket.write(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x01]));
      await expect.poll(() => lines.some((l) => l.msg === "connection cut: packet limit")).toBe(true);
      socket.destroy();
      await broker.close();
      broker = undefined;
      return lines.filter((l) => l.msg.includes("beyond loopback")).length;
    };
    expect(await seen({})).toBe(1);
    expect(await seen({ private: true })).toBe(0);
    // Two starts of the broker process.
  },
  limitForStarts(2),
);
