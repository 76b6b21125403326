/**
 * SIGHUP held from the process's first lines, for the services it must not end: `twinfleet broker`
 * reloads its files on it, `twinfleet twins` takes no notice of it (docs/broker.md, "Reloading
 * credentials and certificates"; docs/twins.md). Node's default for the signal ends the process at
 * once, and the CLI's modules take a while to load before any command can listen for it (1.2 s on an
 * idle 2-core host, 3 to 5 s at load 15): a `systemctl reload`, or a certbot deploy hook, that came
 * then killed the service without a line. cli/bin.ts calls holdHangUps() before it loads the rest,
 * so this module imports nothing.
 *
 * SIGUSR1 and SIGUSR2 are held too. Node's default for SIGUSR2 ends the process without a line, and
 * for SIGUSR1 opens its debugger on 127.0.0.1:9229 — through which any local user may run code as the
 * service's user — for a signal a log-rotation hook may send by habit. A service takes no notice of
 * either and logs that it did not (userSignals).
 *
 * SIGINT and SIGTERM are held too, for the services, `monitor` and `sim` (and SIGHUP, a stop to `sim`):
 * Node's default ends the process at once, and it did so until the command listened for them, after
 * it had taken its data directory's lock (twins.lock), published its presence or begun a save. A
 * SIGTERM from systemd stopping a unit that had just started (or a script killing a job it had just
 * begun) left the lock and a temporary file, and ended the process by the signal rather than with its
 * exit code: 4 trials of 10 at 900-2000 ms after the spawn. Held, a stop is kept until the command
 * takes it (takeStops) and acts on it as soon as it can.
 */

let heard = 0;
let taken = false;
const hold = (): void => {
  if (!taken) heard++;
};

/** The CLI's options that take a value as the next word (cli/log-options.ts). */
const VALUED_OPTIONS = new Set(["--log-level", "--log-format"]);

/** The command `argv` (without node and the script) runs, past the CLI's own options. */
function commandOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? "";
    if (VALUED_OPTIONS.has(word)) i++;
    else if (!word.startsWith("-")) return word;
  }
  return undefined;
}

/** Whether `argv` (without node and the script) runs `twinfleet broker` or `twinfleet twins`. */
export function holdsHangUps(argv: readonly string[]): boolean {
  const command = commandOf(argv);
  return command === "broker" || command === "twins";
}

/** The signals that stop the command `argv` runs, held from the first lines; none for the others. */
export function stopsHeld(argv: readonly string[]): readonly NodeJS.Signals[] {
  const command = commandOf(argv);
  // The console (or the page served alone) is stopped by them too: cli/commands/monitor-run.ts.
  if (command === "broker" || command === "twins" || command === "monitor") return ["SIGINT", "SIGTERM"];
  // A run is stopped by SIGHUP too (a closed terminal): cli/commands/sim.ts STOP_SIGNALS.
  if (command === "sim") return ["SIGINT", "SIGTERM", "SIGHUP"];
  return [];
}

let stopsTaken = false;
/** Stops heard before the command took them that end the process at once, cut short (exit 130). */
const STOPS_BEFORE_EXIT = 3;
const CUT_SHORT = 130;
const stopsHeard: NodeJS.Signals[] = [];

/**
 * How long a start told of a stop (whileStarting) may go on before the process ends itself, exit 130:
 * every step of a run's start ends at its stop, so this is only a guard against one that does not.
 */
export const START_STOP_BOUND_MS = 10_000;

/**
 * Keeps `signals` from ending the process until the command takes them (takeStops), remembering
 * those heard; a third before then ends it at once (exit 130), or a second during a start told of
 * them (whileStarting), which also ends at most START_STOP_BOUND_MS after the first. Once taken,
 * the command's own handlers act; a stop that comes when the command has none any more (it is
 * done, the process ends) ends the process at once, with the exit code it has.
 */
export function holdStops(signals: readonly NodeJS.Signals[]): void {
  for (const signal of signals)
    process.on(signal, () => {
      if (!stopsTaken) {
        stopsHeard.push(signal);
        whileStartingStop?.(signal);
        // A start that does not come to an end (it should not) is no trap: a second stop ends it
        // (a third for a command whose start is not told of them), and the first within a bound.
        if (starting !== undefined && stopsHeard.length >= 2) {
          process.stderr.write(
            `${starting.name}: ${signal} again: ending the start at once (it was ${starting.doing()}); nothing ran\n`,
          );
          process.exit(CUT_SHORT);
        }
        if (stopsHeard.length >= STOPS_BEFORE_EXIT) process.exit(CUT_SHORT);
        boundStart();
      } else if (process.listenerCount(signal) <= 1) {
        process.exit();
      }
    });
}

let whileStartingStop: ((signal: NodeJS.Signals) => void) | undefined;
/** The start told of the stops: the command's name for its lines and the step under way. */
let starting: { readonly name: string; readonly doing: () => string } | undefined;
let bound: ReturnType<typeof setTimeout> | undefined;

/** After the first stop during a start told of it: the process ends if the start has not by the bound. */
function boundStart(): void {
  const first = stopsHeard[0];
  if (starting === undefined || first === undefined || bound !== undefined) return;
  const { name, doing } = starting;
  bound = setTimeout(() => {
    if (stopsTaken) return;
    process.stderr.write(
      `${name}: the start did not end ${START_STOP_BOUND_MS / 1000} s after the ${first} (it was ${doing()}): ending now; nothing ran\n`,
    );
    process.exit(CUT_SHORT);
  }, START_STOP_BOUND_MS);
  bound.unref();
}

/**
 * Tells `stop` of a stop held before the command takes them — at once of one heard already, then of
 * each as it comes — for a start that may wait long (a run waiting for ids in use to go offline, up to
 * 23.5 s): the start can end then rather than once it is over. The stops are still taken as before.
 * Held by the executable (holdStops), a second stop then ends the process at once, and the first
 * within START_STOP_BOUND_MS, each with a line naming `doing()`: the step the start was at.
 */
export function whileStarting(
  stop: (signal: NodeJS.Signals) => void,
  told: { readonly name: string; readonly doing: () => string } = {
    name: "twinfleet",
    doing: () => "starting",
  },
): void {
  whileStartingStop = stop;
  starting = told;
  const first = stopsHeard[0];
  if (first !== undefined) {
    stop(first);
    boundStart();
  }
}

/**
 * The stops heard since holdStops(), before the command listened for them (in the order heard); from
 * now on the command's handlers act on them.
 */
export function takeStops(): readonly NodeJS.Signals[] {
  stopsTaken = true;
  whileStartingStop = undefined;
  starting = undefined;
  if (bound !== undefined) clearTimeout(bound);
  return stopsHeard.splice(0);
}

/** The signals a service takes no notice of, besides SIGHUP. */
const USER_SIGNALS = ["SIGUSR1", "SIGUSR2"] as const;
export type UserSignal = (typeof USER_SIGNALS)[number];
const userHeard: UserSignal[] = [];
let onUser: ((signal: UserSignal) => void) | undefined;

/**
 * Keeps SIGHUP, SIGUSR1 and SIGUSR2 from ending the process (or opening its debugger), from now until
 * it exits; counts the SIGHUPs heard until taken.
 */
export function holdHangUps(): void {
  process.on("SIGHUP", hold);
  for (const signal of USER_SIGNALS)
    process.on(signal, () => {
      if (onUser) onUser(signal);
      else if (userHeard.length < 10) userHeard.push(signal);
    });
}

/** From now on `fn` hears each SIGUSR1 and SIGUSR2 held (and at once those heard before). */
export function userSignals(fn: (signal: UserSignal) => void): void {
  onUser = fn;
  for (const signal of userHeard.splice(0)) fn(signal);
}

/** What a service logs of a SIGUSR1 or SIGUSR2: it did nothing. */
export function userSignalLine(signal: UserSignal, service: "broker" | "twins service"): string {
  const others =
    service === "broker" ? "SIGHUP reloads its files, SIGTERM stops it" : "SIGTERM or Ctrl-C stops it";
  return `${signal}: the ${service} does nothing on it and goes on (${others}; to debug it, start it with node --inspect)`;
}

/**
 * The SIGHUPs heard since holdHangUps(), before the command had its own handler; from now on that
 * handler acts on them. The hold stays, so that one heard after the command let go of it (while the
 * process exits) does not end the process either.
 */
export function takeHangUps(): number {
  taken = true;
  return heard;
}
