/**
 * Fixtures of the login tests: a real broker on port 0 (plain and TLS, self-signed certificate made
 * with openssl) with credentials on — a control user and node users — and nodes that log in.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentialsPolicy, hashPassword, type RunningBroker, startBroker } from "../../broker/index.js";
import { selfSigned } from "../../broker/test/certs.js";
import { CoreClient } from "../../node/mqtt-node.js";
import { NodeId, Prefix } from "../../protocol/index.js";
import { main } from "../main.js";

export const CONTROL_USER = "ctl";
export const CONTROL_PASSWORD = "ctl-s3cret-Pw";
export const NODE_PASSWORD = "node-s3cret-Pw";

export interface AuthBroker {
  readonly broker: RunningBroker;
  readonly dir: string;
  /** The broker's self-signed certificate (PEM file): its own CA. */
  readonly caFile: string;
  close(): Promise<void>;
}

/** A broker with `--auth`: user `ctl` (control) and a node user for each of `nodes`. */
export async function startAuthBroker(nodes: readonly string[]): Promise<AuthBroker> {
  const dir = await mkdtemp(join(tmpdir(), "twinfleet-login-"));
  const { keyFile, certFile: caFile } = selfSigned(dir, "broker", { names: "DNS:localhost,IP:127.0.0.1" });
  const nodeHash = await hashPassword(NODE_PASSWORD);
  const users: Record<
    string,
    { role: "node"; nodeId: string; password: string } | { role: "control"; password: string }
  > = {
    [CONTROL_USER]: { role: "control", password: await hashPassword(CONTROL_PASSWORD) },
  };
  for (const id of nodes) users[id] = { role: "node", nodeId: id, password: nodeHash };
  const broker = await startBroker({
    host: "127.0.0.1",
    port: 0,
    tls: { port: 0, keyFile, certFile: caFile },
    auth: credentialsPolicy({ users }),
  });
  return {
    broker,
    dir,
    caFile,
    close: async () => {
      await broker.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A protocol-exact node logged in with its node credentials, started and synced. */
export async function startAuthNode(url: string, id: string): Promise<CoreClient> {
  const node = new CoreClient({
    url,
    core: {
      id: NodeId(id),
      prefix: Prefix("tf"),
      kind: "sim",
      profile: "uno-w5100",
      firmware: "1.0.0",
      syncGraceMs: 150,
    },
    username: id,
    password: NODE_PASSWORD,
    tickMs: 10,
    reconnectPeriodMs: 0,
  });
  const synced = new Promise<void>((resolve) => node.once("synced", resolve));
  await node.start();
  await synced;
  return node;
}

export async function writeSecret(dir: string, name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text, { mode: 0o600 });
  return file;
}

export interface RunResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs the CLI with captured output and the given environment (none of the process's). */
export async function runCli(argv: readonly string[], env: Record<string, string> = {}): Promise<RunResult> {
  let out = "";
  let err = "";
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s), env });
  return { code, out, err };
}
