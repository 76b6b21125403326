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
 */

let heard = 0;
let taken = false;
const hold = (): void => {
  if (!taken) heard++;
};

/** The CLI's options that take a value as the next word (cli/log-options.ts). */
const VALUED_OPTIONS = new Set(["--log-level", "--log-format"]);

/** Whether `argv` (without node and the script) runs `twinfleet broker` or `twinfleet twins`. */
export function holdsHangUps(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? "";
    if (VALUED_OPTIONS.has(word)) i++;
    else if (!word.startsWith("-")) return word === "broker" || word === "twins";
  }
  return false;
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
