/**
 * A Mosquitto process for the interop tests: the Debian broker on a free loopback port (or the one
 * given, for a restart) with anonymous access and no persistence unless a data directory is given
 * (and the lines or ACL file a test gives, as a site configures
 * it), started as a child process and ready once it accepts a TCP connection. The tests run twinfleet against it to catch whatever only worked on the embedded
 * broker (aedes).
 */
import { spawn } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
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
  /** Ends it with SIGKILL, as a power cut does: nothing more is saved, no will is published. */
  kill(): Promise<void>;
}

/** The Mosquitto binary (Debian's package mosquitto). */
export function findMosquitto(): string {
  return findSystemBinary("mosquitto", "mosquitto");
}

export interface MosquittoOptions {
  /** More lines for mosquitto.conf, as a site writes them. */
  readonly conf?: readonly string[];
  /** An ACL file (mosquitto.conf's `acl_file`), its lines. */
  readonly acl?: readonly string[];
  readonly timeoutMs?: number;
  /** The port to listen on (a restart on the same one); a free one otherwise. */
  readonly port?: number;
  /** Persistence on, saved here every second (the directory is the caller's, kept by close()). */
  readonly dataDir?: string;
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  const bin = findMosquitto();
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const dir = await mkdtemp(join(tmpdir(), "twinfleet-mosquitto-"));
  // Started as root, Mosquitto reads its files as the user mosquitto.
  await chmod(dir, 0o755);
  const port = opts.port ?? ((await freePorts(1)) as [number])[0];
  if (opts.dataDir) await chmod(opts.dataDir, 0o777); // written as the user mosquitto
  const conf = join(dir, "mosquitto.conf");
  const acl = join(dir, "acl");
  if (opts.acl) await writeFile(acl, `${opts.acl.join("\n")}\n`, { mode: 0o644 });
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      ...(opts.dataDir
        ? ["persistence true", `persistence_location ${opts.dataDir}/`, "autosave_interval 1"]
        : ["persistence false"]),
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      "log_type notice",
      ...(opts.acl ? [`acl_file ${acl}`] : []),
      ...(opts.conf ?? []),
      "",
    ].join("\n"),
  );
  const child = spawn(bin, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  const end = async (signal: "SIGTERM" | "SIGKILL") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited(child);
    await rm(dir, { recursive: true, force: true });
  };
  const close = () => end("SIGTERM");
  // Another process may take the port between freePort() and the bind: Mosquitto then exits.
  const deadline = performance.now() + timeoutMs;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || performance.now() > deadline) {
      await close();
      throw new Error(`mosquitto did not accept connections on port ${port}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, log: () => log, close, kill: () => end("SIGKILL") };
}
