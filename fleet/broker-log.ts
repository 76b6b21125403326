/**
 * The log lines of a run's own broker, in a thread (fleet/broker-thread.ts) or a child process
 * (fleet/broker-host.ts), logged by the run at their level: what the broker says of its data
 * directory (a full disk), its limits or its clients is the run's to show, as a broker on its own
 * shows it on its stderr.
 */
import type { Logger } from "pino";

/** pino's number for `warn`. */
export const WARN_LEVEL = 40;

/**
 * A pino JSON line of the broker, logged on `logger` at its level (its own time, pid and host
 * dropped) when at least `least`; a line that is not JSON (a crash's last words) at `warn`.
 */
export function relayBrokerLine(logger: Logger, line: string, least = 0): void {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    if (line.trim() !== "") logger.warn({ line }, "broker");
    return;
  }
  const { level, msg, time: _t, pid: _p, hostname: _h, ...rest } = rec;
  if (Number(level) < least) return;
  const name = logger.levels.labels[Number(level)] ?? "info";
  const fn = (logger as unknown as Record<string, (o: object, m?: string) => void>)[name];
  fn?.call(logger, rest, typeof msg === "string" ? msg : undefined);
}
