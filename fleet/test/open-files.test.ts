/**
 * A fleet over TCP that cannot fit under the process's open-files limit is refused before anything
 * starts, naming the need, the limit, how to raise it and how many nodes fit; one that fits, or one
 * on in-memory ports, is not. The last case is the command as a user runs it, under `ulimit -n`.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { cliCommand } from "../../node/test/cli-command.js";
import { BASE_FILES, checkOpenFiles, FILES_PER_THREAD, OpenFilesError } from "../open-files.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

it("refuses a fleet that does not fit, saying what would", () => {
  const files = { limit: 1024, hard: 1024, open: 30 };
  let err: unknown;
  try {
    checkOpenFiles(2000, 2, files);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(OpenFilesError);
  const need = 30 + 2000 + BASE_FILES + 2 * FILES_PER_THREAD;
  const fits = 1024 - 30 - BASE_FILES - 2 * FILES_PER_THREAD;
  expect((err as Error).message).toBe(
    `2000 nodes over TCP need about ${need} open files, but this process may open 1024 (\`ulimit -n\`; 30 open now): raise the limit (as root \`ulimit -n 4096\` before starting, LimitNOFILE=4096 in a systemd unit, --ulimit nofile=4096 for a container), or run at most ${fits} nodes here and split a larger fleet over shards (docs/shards.md)`,
  );
  // A soft limit under the hard one: `ulimit -n` alone raises it.
  expect(() => checkOpenFiles(2000, 2, { ...files, hard: 1_048_576 })).toThrow(
    "raise the limit (`ulimit -n 4096`)",
  );
});

it("lets a fleet that fits, no sockets, or an unknown limit through", () => {
  const files = { limit: 1024, hard: 1024, open: 30 };
  expect(() => checkOpenFiles(1024 - 30 - BASE_FILES - 2 * FILES_PER_THREAD, 2, files)).not.toThrow();
  expect(() => checkOpenFiles(0, 2, { ...files, limit: 10 })).not.toThrow();
  expect(() => checkOpenFiles(100_000, 2, undefined)).not.toThrow();
  expect(() => checkOpenFiles(100_000, 2, { ...files, limit: Number.POSITIVE_INFINITY })).not.toThrow();
});

it.runIf(process.platform === "linux")(
  "`twinfleet sim --broker` under a small ulimit -n stops at once with that message",
  () => {
    // Nothing listens on the port: the check must come before any connection is tried.
    const cmd = `ulimit -n 400 && exec ${cliCommand()} sim --broker mqtt://127.0.0.1:1 --nodes 400 --duration 5 --headless`;
    const r = spawnSync("bash", ["-c", cmd], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^twinfleet sim: 400 nodes over TCP need about \d+ open files, but this process may open 400/m,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  },
  60_000,
);
