/**
 * The global log options (`--log-level`, `--log-format`) and their values: what declaring the
 * program needs, apart from the logger itself (cli/log.ts), so that declaring it loads no logger.
 */
import { Option } from "commander";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "silent"] as const;
export const LOG_FORMATS = ["pretty", "json"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogSettings {
  readonly logLevel?: LogLevel;
  readonly logFormat?: LogFormat;
}

/** The global options; commander checks the choices (a bad one is a usage error). */
export function logOptions(): Option[] {
  return [
    new Option("--log-level <level>", "least severe log lines shown").choices(LOG_LEVELS).default("info"),
    new Option("--log-format <format>", "log lines on stderr: readable, or JSON lines")
      .choices(LOG_FORMATS)
      .default("pretty"),
  ];
}
