/**
 * The twins service's answers to a command, as the view's: its refusal of bad input (a ninth source,
 * a pairing not there) as CommandRefused, the broker not reachable (nothing sent) as
 * CommandUnavailable, and a pairing stored for the broker's return as CommandDeferred, with the line
 * the event log shows for it (view/twins-source.ts). A command is answered once what it changed is
 * stored: a set for an offline node lives in the store alone until the node returns.
 */
import {
  BrokerUnavailableError,
  type PairingOutcome,
  storedUntilBack,
  type Twins,
  TwinsCommandError,
} from "../twins/index.js";
import { type CommandDeferred, CommandRefused, CommandUnavailable } from "./source.js";

/** `p`, its twins errors as the view's. */
export async function refused<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof TwinsCommandError) throw new CommandRefused(e.message);
    if (e instanceof BrokerUnavailableError) throw new CommandUnavailable(e.message);
    throw e;
  }
}

/**
 * `p`, answered once the service has stored what it changed (`Twins.written`; a view without it, at
 * once). The HTTP API answered a set for an offline node 202 ("kept and sent when it registers
 * again") before the save had begun, 1 s before it beside 20,000 twins (saves are spaced on a large
 * fleet): a kill -9 or a power cut then lost the set it had accepted.
 */
export async function stored<T>(twins: Pick<Twins, "written">, p: Promise<T>): Promise<T> {
  const answer = await p;
  await twins.written?.();
  return answer;
}

/**
 * The log line of a pairing of `follower`: `pairing` (`A follows B`) when sent; else why the broker
 * cannot take it and that it is stored, which is also what the caller is told will happen.
 */
export function pairingTold(
  outcome: PairingOutcome,
  follower: string,
  pairing: string,
): { readonly level: "info" | "warn"; readonly text: string; readonly deferred?: CommandDeferred } {
  if (outcome.sent) return { level: "info", text: pairing };
  const text = storedUntilBack(outcome.why, `the pairing (${pairing})`, follower);
  return { level: "warn", text, deferred: { deferred: text } };
}
