/**
 * The process's stdout and stderr as the bin hands them to main(): a write that fails — a reader
 * that went away (`| head`, EPIPE), a full disk (ENOSPC), a closed terminal (EIO) — never throws and
 * never ends the process. The rest of the output is dropped and the command goes on: a broker or
 * twins service keeps serving with its log destination gone, a run ends as it would have and writes
 * its `--report`. Only the exit code tells, and only for stdout's results lost other than by a reader
 * closing the pipe (docs/cli.md, "Output that cannot be written").
 */

export interface GuardedOutput {
  readonly write: (s: string) => void;
  /** The first error of a write, if one failed. */
  readonly failure: () => NodeJS.ErrnoException | undefined;
  /** Resolves once what was written has reached the stream or failed (so `failure` is known). */
  readonly settled: () => Promise<void>;
}

export function guardOutput(stream: NodeJS.WriteStream | NodeJS.WritableStream): GuardedOutput {
  let failure: NodeJS.ErrnoException | undefined;
  const fail = (e: unknown) => {
    failure ??= e as NodeJS.ErrnoException;
  };
  stream.on("error", fail);
  return {
    write: (s) => {
      if (failure !== undefined) return;
      try {
        stream.write(s);
      } catch (e) {
        fail(e);
      }
    },
    failure: () => failure,
    settled: () =>
      new Promise<void>((resolve) => {
        if (failure !== undefined) return resolve();
        try {
          stream.write("", () => setImmediate(resolve));
        } catch (e) {
          fail(e);
          resolve();
        }
      }),
  };
}

/** A reader closed the pipe: it had read what it wanted (`| head`); nothing it wanted was lost. */
const READER_GONE = new Set(["EPIPE", "ERR_STREAM_DESTROYED"]);

/**
 * The exit code once the command has ended: its own, or 1 when stdout could not take its results
 * for another reason than its reader going away — a pipe closed, or (`onTerminal`: stdout was a
 * terminal at the start) a terminal hung up, EIO — (`> /dev/full`, a full disk), said on stderr.
 * `twinfleet nodes > fleet.json` on a full disk must not exit 0 with an empty file.
 */
export function exitAfterOutput(
  code: number,
  stdout: NodeJS.ErrnoException | undefined,
  command: string,
  stderr: (s: string) => void,
  onTerminal = false,
): number {
  if (stdout === undefined || READER_GONE.has(stdout.code ?? "")) return code;
  if (onTerminal && stdout.code === "EIO") return code;
  stderr(`${command}: cannot write to stdout (${stdout.message}): the command's output is lost\n`);
  return code === 0 ? 1 : code;
}
