/**
 * The one logger of every command: pino, writing to stderr — readable lines by default
 * (`12:03:04.120 INFO  twins: set node=lamp-1 on=true`), JSON lines with `--log-format json` —
 * at `--log-level` (default info). Known secrets (the broker password) are masked in every line.
 */
import { type Logger, pino } from "pino";
import type { LogSettings } from "./log-options.js";
import { maskSecrets } from "./mask.js";

const NAMES: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};
const SKIP = new Set(["level", "time", "msg", "pid", "hostname"]);

/** One readable line for a pino JSON record. */
export function prettyLine(record: Record<string, unknown>): string {
  const t = new Date(typeof record.time === "number" ? record.time : Date.now());
  const time = t.toISOString().slice(11, 23);
  const level = (NAMES[record.level as number] ?? String(record.level)).padEnd(5);
  const fields = Object.entries(record)
    .filter(([k, v]) => !SKIP.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${fieldText(v)}`);
  return `${time} ${level} ${visible(String(record.msg ?? ""))}${fields.length > 0 ? ` ${fields.join(" ")}` : ""}`;
}

function fieldText(v: unknown): string {
  if (typeof v === "string") return PLAIN.test(v) ? v : visible(JSON.stringify(v));
  if (v !== null && typeof v === "object" && "message" in v && "type" in v)
    return visible(JSON.stringify(v.message));
  return visible(JSON.stringify(v));
}

/**
 * Control characters (C0, DEL, C1) and bidirectional overrides: what a device on the LAN puts in a
 * topic, a client id or a payload reaches the operator's terminal through the log, where ESC and
 * CSI sequences would clear the screen, set the window title or hide lines, and bidi overrides
 * would show text reversed. Each is written as its `\uXXXX` escape instead.
 */
const CONTROLS = "\\p{Cc}\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069";
const UNSAFE = new RegExp(`[${CONTROLS}]`, "gu");
/** A field value written bare: no space, quote, `=` or character from UNSAFE. */
const PLAIN = new RegExp(`^[^\\s"=${CONTROLS}]+$`, "u");

function visible(s: string): string {
  return s.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export interface CreateLoggerOptions extends LogSettings {
  readonly write: (line: string) => void;
  /** Strings never to be written (replaced by `***`). */
  readonly secrets?: readonly (string | undefined)[];
}

export function createLogger(o: CreateLoggerOptions): Logger {
  const secrets = (o.secrets ?? []).filter((s): s is string => typeof s === "string" && s.length > 0);
  const mask = (s: string) => maskSecrets(s, secrets);
  const json = o.logFormat === "json";
  return pino(
    {
      level: o.logLevel ?? "info",
      base: undefined,
      redact: { paths: ["password", "*.password"], censor: "***" },
    },
    {
      write: (chunk: string) => {
        const text = mask(chunk);
        if (json) return o.write(text);
        for (const line of text.split("\n")) {
          if (line === "") continue;
          try {
            o.write(`${prettyLine(JSON.parse(line) as Record<string, unknown>)}\n`);
          } catch {
            o.write(`${line}\n`);
          }
        }
      },
    },
  );
}

/** The logger of a command: the program's global `--log-level` / `--log-format`, on `io.stderr`. */
export function commandLogger(
  program: { opts(): Record<string, unknown> },
  io: { readonly stderr: (s: string) => void },
  secrets: readonly (string | undefined)[] = [],
): Logger {
  const o = program.opts() as LogSettings;
  return createLogger({
    ...(o.logLevel !== undefined ? { logLevel: o.logLevel } : {}),
    ...(o.logFormat !== undefined ? { logFormat: o.logFormat } : {}),
    write: io.stderr,
    secrets,
  });
}

/**
 * The logger of a command that opens a full-screen console: its lines would tear the screen, so it
 * writes warnings and errors to `io.stderr` only until `quiet()` (the console opening) — a broker that
 * cannot be reached, ids in use the run waits on — and nothing after.
 */
export function beforeConsoleLogger(io: { readonly stderr: (s: string) => void }): {
  logger: Logger;
  quiet(): void;
} {
  let open = true;
  const logger = createLogger({
    logLevel: "warn",
    write: (s) => {
      if (open) io.stderr(s);
    },
  });
  return { logger, quiet: () => (open = false) };
}
