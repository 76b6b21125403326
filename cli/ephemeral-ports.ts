/**
 * A listening port inside the kernel's ephemeral range (net.ipv4.ip_local_port_range), from which
 * every outgoing connection of the host takes its own port: a client of this host reconnecting to the
 * port while nothing listens there can be given that very port as its own and connect to itself (TCP
 * simultaneous open), and the listener started again then finds the port in use. Reads the range and
 * the reserved ports (which the kernel never hands out) from /proc, and words the warning a service
 * gives at its start; on a host without them (not Linux) it says nothing.
 */
import { readFileSync } from "node:fs";

export interface PortRanges {
  readonly low: number;
  readonly high: number;
  /** net.ipv4.ip_local_reserved_ports: ports and ranges never given to outgoing connections. */
  readonly reserved: readonly (readonly [number, number])[];
}

const RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range";
const RESERVED_FILE = "/proc/sys/net/ipv4/ip_local_reserved_ports";

/** The host's ephemeral range and reserved ports, or undefined where the kernel does not tell them. */
export function readPortRanges(read = (path: string) => readFileSync(path, "utf8")): PortRanges | undefined {
  let low: number | undefined;
  let high: number | undefined;
  try {
    [low, high] = read(RANGE_FILE).trim().split(/\s+/).map(Number);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(low) || !Number.isInteger(high)) return undefined;
  let reserved: (readonly [number, number])[] = [];
  try {
    reserved = parseReserved(read(RESERVED_FILE));
  } catch {
    reserved = [];
  }
  return { low: low as number, high: high as number, reserved };
}

/** `8080,30000-30010` as the kernel writes it. */
export function parseReserved(text: string): (readonly [number, number])[] {
  return text
    .trim()
    .split(",")
    .filter((part) => part !== "")
    .map((part) => {
      const [a, b = a] = part.split("-").map(Number);
      return [a as number, b as number] as const;
    })
    .filter(([a, b]) => Number.isInteger(a) && Number.isInteger(b));
}

/**
 * The warning for listening on `port` (given by `flag`), or undefined: port 0 (the kernel's choice,
 * asked for), a port outside the range, or a reserved one.
 */
export function ephemeralPortWarning(
  flag: string,
  port: number,
  ranges: PortRanges | undefined,
): string | undefined {
  if (ranges === undefined || port === 0 || port < ranges.low || port > ranges.high) return undefined;
  if (ranges.reserved.some(([a, b]) => port >= a && port <= b)) return undefined;
  return `${flag} ${port} is in the kernel's ephemeral port range (${ranges.low}-${ranges.high}, net.ipv4.ip_local_port_range), from which this host's outgoing connections take their own ports: a client of this host reconnecting to ${port} while nothing listens there can be given ${port} as its own port and connect to itself, and the listener started again then finds the port in use. Pick a port below ${ranges.low}, or reserve this one (sysctl -w net.ipv4.ip_local_reserved_ports=${port}, with any reserved already; docs/broker.md, "A port in the ephemeral range")`;
}

/** The warnings for the ports a service was given (a flag and its value; 0 or absent are skipped). */
export function ephemeralPortWarnings(
  ports: readonly (readonly [string, number | undefined])[],
  ranges: PortRanges | undefined = readPortRanges(),
): string[] {
  return ports.flatMap(([flag, port]) => {
    const w = port === undefined ? undefined : ephemeralPortWarning(flag, port, ranges);
    return w === undefined ? [] : [w];
  });
}
