/**
 * SIGHUP held from the process's first lines, for the services it must not end: `twinfleet broker`
 * reloads its files on it, `twinfleet twins` takes no notice of it (docs/broker.md, "Reloading
 * credentials and certificates"; docs/twins.md). Node's default for the signal ends the process at
 * once, and the CLI's modules take a while to load before any command can listen for it (1.2 s on an
 * idle 2-core host, 3 to 5 s at load 15): a `systemctl reload`, or a certbot deploy hook, that came
 * then killed the service without a line. cli/bin.ts calls holdHangUps() before it loads the rest,
 * so this module imports nothing.
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

/** Keeps SIGHUP from ending the process, from now until it exits; counts those heard until taken. */
export function holdHangUps(): void {
  process.on("SIGHUP", hold);
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
