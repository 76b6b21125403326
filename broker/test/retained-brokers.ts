/**
 * What the retained-message tests on real sockets share (retained-cap.test.ts,
 * retained-commands.test.ts): brokers on port 0 whose log lines the test reads, clients and data
 * directories closed and removed after each test, and the retained messages a fresh client is sent.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { pino } from "pino";
import { afterEach } from "vitest";
import type { BrokerOptions } from "../options.js";
import { type RunningBroker, startBroker } from "../server.js";
import { client, closeAll, retainedOf } from "./helpers.js";

export interface RetainedBrokers {
  /** A broker with `options`, its info lines pushed to `lines`; closed after the test. */
  start(options: BrokerOptions, lines?: object[]): Promise<RunningBroker>;
  /** A client of the broker at `url`, closed after the test. */
  connect(url: string, clientId: string): Promise<MqttClient>;
  /** Closes the clients connected so far. */
  closeClients(): Promise<void>;
  /** The retained messages of `topics` a fresh client is sent, by topic. */
  retained(url: string, topics: string[]): Promise<Record<string, string>>;
  /** A new data directory, removed after the test. */
  dataDir(): Promise<string>;
}

/** Sets up the file's tests (an afterEach) and gives them the fixtures; `name` names the directories. */
export function retainedBrokers(name: string): RetainedBrokers {
  let broker: RunningBroker | undefined;
  const dirs: string[] = [];
  const clients: MqttClient[] = [];
  afterEach(async () => {
    await closeAll(...clients.splice(0));
    await broker?.close();
    broker = undefined;
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  const connect = async (url: string, clientId: string): Promise<MqttClient> => {
    const c = await client(url, { clientId });
    clients.push(c);
    return c;
  };
  return {
    async start(options, lines = []) {
      const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
      broker = await startBroker({ host: "127.0.0.1", port: 0, logger, ...options });
      return broker;
    },
    connect,
    closeClients: () => closeAll(...clients.splice(0)),
    retained: async (url, topics) =>
      retainedOf(await connect(url, `probe-${Math.random().toString(36).slice(2)}`), topics),
    async dataDir() {
      const d = await mkdtemp(join(tmpdir(), `${name}-`));
      dirs.push(d);
      return d;
    },
  };
}
