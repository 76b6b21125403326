/**
 * A Mosquitto process for the interop tests: the Debian broker on a free loopback port with
 * anonymous access and no persistence, started as a child process and ready once it accepts a TCP
 * connection. The tests run twinfleet against it to catch whatever only worked on the embedded
 * broker (aedes).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { accepts, exited, freePorts } from "./ports.js";
import { findSystemBinary } from "./system-bin.js";

export interface Mosquitto {
  readonly url: string;
  readonly port: number;
  /** Everything Mosquitto logged so far (its log goes to stderr), for failure messages. */
  log(): string;
  close(): Promise<void>;
}

/** The Mosquitto binary (Debian's package mosquitto). */
export function findMosquitto(): string {
  return findSystemBinary("mosquitto", "mosquitto");
}

export async function startMosquitto(timeoutMs = 10_000): Promise<Mosquitto> {
  const bin = findMosquitto();
  const dir = await mkdtemp(join(tmpdir(), "twinfleet-mosquitto-"));
  const [port] = (await freePorts(1)) as [number];
  const conf = join(dir, "mosquitto.conf");
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      "persistence false",
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      "log_type notice",
      "",
    ].join("\n"),
  );
  const child = spawn(bin, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited(child);
    await rm(dir, { recursive: true, force: true });
  };
  // Another process may take the port between freePort() and the bind: Mosquitto then exits.
  const deadline = performance.now() + timeoutMs;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || performance.now() > deadline) {
      await close();
      throw new Error(`mosquitto did not accept connections on port ${port}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, log: () => log, close };
}
