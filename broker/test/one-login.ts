/**
 * A broker on port 0 whose one login (a control user) can be taken away and given back under its
 * clients, as a site does by editing `--auth` and sending SIGHUP (broker/reload.ts): for the tests of
 * what a client does when its broker refuses it.
 */
import { pino } from "pino";
import { credentialsPolicy, hashPassword } from "../credentials.js";
import { type RunningBroker, startBroker } from "../server.js";

export interface OneLoginBroker {
  readonly broker: RunningBroker;
  /** The login's clients cut, their reconnects refused (CONNACK 4). */
  revoke(): Promise<void>;
  /** The login let in again. */
  restore(): Promise<void>;
}

export async function oneLoginBroker(username: string, password: string): Promise<OneLoginBroker> {
  const users = { [username]: { role: "control" as const, password: await hashPassword(password) } };
  const broker = await startBroker({
    host: "127.0.0.1",
    port: 0,
    auth: credentialsPolicy({ users }),
    logger: pino({ level: "silent" }),
  });
  return {
    broker,
    revoke: async () => {
      await broker.reload(async () => ({ auth: credentialsPolicy({ users: {} }) }));
    },
    restore: async () => {
      await broker.reload(async () => ({ auth: credentialsPolicy({ users }) }));
    },
  };
}
