/**
 * The twins service's answers to a command, as the view's: its refusal of bad input (a ninth source,
 * a pairing not there) as CommandRefused, the broker not reachable (nothing sent) as
 * CommandUnavailable, and a pairing stored for the broker's return as CommandDeferred, with the line
 * the event log shows for it (view/twins-source.ts). A command is answered once what it changed is
 * stored: a set for an offline node lives in the store alone until the node returns. A pairing of a
 * node not online is told pending until the node returns, and done once it confirms it (it read
 * `A follows B` at once, as if done); the caller is told so too (the web API's 202, which answered
 * 200 as for a pairing carried out).
 */
import type { NodeId } from "../protocol/index.js";
import {
  BrokerUnavailableError,
  type PairingOutcome,
  storedUntilBack,
  type Twin,
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

type Told = { readonly level: "info" | "warn"; readonly text: string; readonly deferred?: CommandDeferred };

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
 * The log line of a pairing of `follower`: `pairing` (`A follows B`) when sent to a node online; sent
 * for a node not online (its config written for it on the broker, or nothing written when the
 * pairing was already desired), that it is pending until the node returns; else why the broker cannot take it and that it is stored. Either of the last two is also
 * what the caller is told will happen (`deferred`).
 */
export function pairingTold(
  outcome: PairingOutcome,
  follower: string,
  pairing: string,
  presence = "online",
): Told {
  if (outcome.sent && presence === "online") return { level: "info", text: pairing };
  if (outcome.sent) {
    // Already desired, nothing was written: the config on the broker is the one that stood.
    const written = outcome.already
      ? "the pairing was already desired: nothing written, its config on the broker stands"
      : "its config is written for it on the broker";
    const text = `${pairing}: pending until ${follower} returns (it is ${presence}; ${written})`;
    return { level: "warn", text, deferred: { deferred: text } };
  }
  const text = storedUntilBack(outcome.why, `the pairing (${pairing})`, follower);
  return { level: "warn", text, deferred: { deferred: text } };
}

/** The pairings told pending, by follower and source, each told done once its follower confirms. */
export class PendingPairings {
  /** By follower: by source, the line and whether it asked the follower to follow the source. */
  private readonly waiting = new Map<
    NodeId,
    Map<NodeId, { readonly line: string; readonly follow: boolean }>
  >();

  /** The line of a pairing command (`pairingTold`), remembered when it is pending. */
  told(outcome: PairingOutcome, follower: NodeId, source: NodeId, pairing: string, presence?: string): Told {
    const t = pairingTold(outcome, follower, pairing, presence);
    if (outcome.sent && presence !== "online") {
      // A later pairing of the same two nodes replaces the earlier one (pair, then unpair).
      const lines = this.waiting.get(follower) ?? new Map();
      this.waiting.set(
        follower,
        lines.set(source, { line: pairing, follow: !pairing.includes(" no longer ") }),
      );
    } else if (outcome.sent) this.waiting.get(follower)?.delete(source);
    return t;
  }

  /**
   * A twin changed: once it has confirmed a pairing, the lines of those told pending: done, or not
   * carried out when what it confirmed is another's (a control tool that replaced the pairing).
   */
  changed(t: Twin | undefined): readonly { readonly level: "info" | "warn"; readonly text: string }[] {
    const lines = t === undefined ? undefined : this.waiting.get(t.id);
    if (t === undefined || lines === undefined || t.pairing !== "confirmed") return [];
    this.waiting.delete(t.id);
    const now = t.desired.sources.length === 0 ? "no node" : t.desired.sources.join(" ");
    return [...lines].map(([source, p]) =>
      t.desired.sources.includes(source) === p.follow
        ? { level: "info", text: `${p.line}: confirmed by ${t.id} on its return` }
        : {
            level: "warn",
            text: `${p.line}: not carried out, ${t.id} confirmed following ${now} (its pairing replaced)`,
          },
    );
  }

  /** A pairing of `id` told pending here waits for it to confirm. */
  waits(id: NodeId): boolean {
    return this.waiting.has(id);
  }

  forget(id: NodeId): void {
    this.waiting.delete(id);
  }
}
