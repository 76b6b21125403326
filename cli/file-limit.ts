/**
 * The open files a command needs to start, against the process's limit (`ulimit -n`; Linux's
 * /proc/self/limits), and the error that says so. Node loads a command's modules all at once: each
 * `import` it finds is read at once, so a service's 900 files had 112 open together (`twins`), a
 * sim's 142, before the command could run at all. Under a lower limit, a module's read failed
 * with EMFILE, or worse a package's package.json could not be read and the import failed as
 * `Cannot find package '…/node_modules/mqtt-packet/index.js'`: a missing package, for a limit.
 * cli/bin.ts checks the limit before anything loads, and it and cli/main.ts tell any EMFILE while
 * loading (or starting) as the limit it is. cli/bin.ts loads this before the rest, so it imports
 * node:fs and node:path alone.
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * The files each command needs at least to start, measured (`bash -c 'ulimit -n N; twinfleet …'`,
 * three tries at each N; docs/cli.md, "The open files a command needs to start"): the smallest N it
 * started under every time, one step (8) above the largest it failed under. Just above it a start
 * may still run short on a host where loading goes otherwise: that is told as the limit too. A sim's
 * is what 4 worker threads took (`--workers`, one a core up to 4 by default): each loads its own.
 * Every command and subcommand has one (cli/test/file-limit.test.ts checks it against the program):
 * those left out said `ulimit -n` with no figure when they ran short.
 */
export const START_FILES: Readonly<Record<string, number>> = {
  twins: 136,
  broker: 128,
  monitor: 136,
  sim: 352,
  // A command with subcommands: each its own (`broker` alone is the service).
  "broker hash-password": 128,
  "broker backup": 120,
  nodes: 104,
  set: 104,
  pair: 104,
  unpair: 104,
  forget: 104,
  "report show": 104,
  "report merge": 104,
  // Its points run as a sim does, their worker threads as many: 320 fell short 1 of 3 as sim's did.
  sweep: 352,
};

/** The soft limit of open files from /proc/self/limits' text; undefined if unknown or unlimited. */
export function softFileLimit(limits: string | undefined): number | undefined {
  const soft = /^Max open files\s+(\d+)/m.exec(limits ?? "")?.[1];
  return soft === undefined ? undefined : Number(soft);
}

let limitsRead: string | undefined;
/**
 * /proc/self/limits, or undefined (not Linux, or not even that file could be opened). Kept from the
 * first read (cli/bin.ts's, before anything loads): at the limit, reading it again needs a file the
 * limit refuses.
 */
export function readLimits(): string | undefined {
  try {
    limitsRead ??= readFileSync("/proc/self/limits", "utf8");
  } catch {
    // Not there, or no file left to read it with: unknown.
  }
  return limitsRead;
}

/**
 * The program's own options that take a value (cli/log-options.ts; cli/test/file-limit.test.ts holds
 * the two lists together): given anywhere, before the command's name too, their value is no word.
 */
export const GLOBAL_VALUE_OPTIONS: readonly string[] = ["--log-level", "--log-format"];

/**
 * The words of argv that name (sub)commands, as commander reads them: `--log-format json twins`
 * is `twins`, not `json`. Everything after `--` is an argument, and so is every word after a
 * command's own option: in `broker --data backup`, `backup` is the data directory, not the
 * `broker backup` subcommand.
 */
export function commandWords(argv: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") break;
    if (GLOBAL_VALUE_OPTIONS.includes(a)) i++;
    else if (!a.startsWith("-")) words.push(a);
    else if (words.length > 0 && !a.startsWith("--log-")) break;
  }
  return words;
}

/** The command argv names (`twins`, `sim`, …) with the files it needs to start, if measured. */
export function startNeed(argv: readonly string[]): { command: string; need: number } | undefined {
  const [command, sub] = commandWords(argv);
  if (command === undefined || argv.includes("--help") || argv.includes("-h")) return undefined;
  // `broker hash-password`, `report show`: a subcommand's own; `broker --data d`: the command's.
  const named =
    sub !== undefined && START_FILES[`${command} ${sub}`] !== undefined ? `${command} ${sub}` : command;
  const need = START_FILES[named];
  return need === undefined ? undefined : { command: named, need };
}

/** What to raise and how, for `need` files (as fleet/open-files.ts says it). */
function raise(need: number | undefined): string {
  const n = need === undefined ? "" : ` ${need}`;
  return `raise it before starting (as root \`ulimit -n${n}\`, LimitNOFILE=${n.trim()} in a systemd unit, --ulimit nofile=${n.trim()} for a container)`;
}

/**
 * The line for a limit of open files too low for `command`: `limit` (undefined: unknown), `need`
 * (undefined: not measured), and whether it was found out by running short (EMFILE while loading
 * or starting) rather than by the check at start.
 */
export function fileLimitMessage(o: {
  command: string;
  limit: number | undefined;
  need: number | undefined;
  ranOut: boolean;
}): string {
  const has = o.limit === undefined ? "its limit" : `${o.limit}`;
  const what = o.ranOut
    ? `the open-files limit is too low: it ran out of open files (EMFILE) while starting; this process may open ${has} (ulimit -n)`
    : `the open-files limit is too low: this process may open ${has} files (ulimit -n)`;
  if (o.need === undefined) return `${what}: ${raise(undefined)}`;
  // Short at or above the need measured (loading went otherwise on this host): twice the limit.
  const over = o.limit !== undefined && o.limit >= o.need;
  const needs = ` and ${o.command} needs at least ${o.need} to start${over ? ", more on this host" : ""}`;
  return `${what}${needs}: ${raise(over && o.limit !== undefined ? o.limit * 2 : o.need)}`;
}

/** The line to stop with before loading anything, if the limit is below the command's need. */
export function tooFewFiles(argv: readonly string[], limits = readLimits()): string | undefined {
  const start = startNeed(argv);
  const limit = softFileLimit(limits);
  if (start === undefined || limit === undefined || limit >= start.need) return undefined;
  return fileLimitMessage({ command: `twinfleet ${start.command}`, limit, need: start.need, ranOut: false });
}

/** True if `path` is there (stat opens no file, so it answers at the limit too). */
function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * True if the file an import was said not to find is there after all: the file itself, or, for a
 * package's `…/index.js`, the package, its package.json naming a main file that is there (Node
 * falls back to index.js when it cannot read package.json, and mqtt-packet's main is mqtt.js), or
 * its package.json refused for the limit itself.
 */
export function namedFileThere(path: string): boolean {
  if (exists(path)) return true;
  const dir = dirname(path);
  let main: unknown;
  try {
    main = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { main?: unknown }).main;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "EMFILE" || code === "ENFILE";
  }
  if (typeof main !== "string") return false;
  const file = join(dir, main);
  return [file, `${file}.js`, join(file, "index.js")].some(exists);
}

/**
 * True for an error that is the open-files limit: EMFILE or ENFILE (on the error or its cause), or
 * an import that failed as "Cannot find package/module" for a file that is there (Node reads the
 * package's package.json, fails for the limit, and says the package is missing).
 */
export function isFileLimitError(e: unknown, there: (path: string) => boolean = namedFileThere): boolean {
  for (let err = e, depth = 0; err instanceof Error && depth < 5; depth++) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EMFILE" || code === "ENFILE") return true;
    if (code === "ERR_MODULE_NOT_FOUND") {
      const path = /^Cannot find (?:package|module) '([^']+)'/.exec(err.message)?.[1];
      if (path?.startsWith("/") && there(path)) return true;
    }
    err = (err as { cause?: unknown }).cause;
  }
  return false;
}

/** The line for an error that is the limit (isFileLimitError), for the command argv names. */
export function fileLimitError(argv: readonly string[], commandName: string, limits = readLimits()): string {
  return fileLimitMessage({
    command: commandName,
    limit: softFileLimit(limits),
    need: startNeed(argv)?.need,
    ranOut: true,
  });
}
