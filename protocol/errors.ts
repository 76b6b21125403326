/**
 * The protocol's error type: every rejection of outside input names one reason from a closed set,
 * so the TypeScript model, the C++ core and the conformance vectors can agree on it.
 */

/** Why a message was rejected; the same strings appear in the vectors and the C++ core. */
export const DROP_REASONS = [
  "bad-topic",
  "bad-id",
  "bad-payload",
  "wrong-version",
  "too-long",
  "self-follow",
  "follows-full",
  "not-following",
  "stale",
  /** A report, set command or config whose counter or version is above COUNTER_CEILING (protocol.md §4). */
  "implausible-counter",
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** Bad data from outside (a device, a broker, a file): never a bug of ours. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  constructor(
    readonly reason: DropReason,
    message: string,
  ) {
    super(message);
  }
}

export function isProtocolError(e: unknown): e is ProtocolError {
  return e instanceof ProtocolError;
}
