/**
 * Which twins services hold a presence on the fleet, for the lines of the one-shot commands (`pair`,
 * `unpair`, `set`, `forget`): those found, or why it could not be told. The look opens a connection of
 * its own and has 1 s: over a slow link or to a busy broker its marker may not come back in time, and
 * such a look (twins/presence.ts, PresenceLookUnfinished) read as none found, so the commands said
 * that no twins service ran and nothing would re-send a pairing the running one re-sends.
 */
import { findTwinsServices, PresenceLookUnfinished, type TwinsServiceInfo } from "../../twins/index.js";
import type { ToolConnection } from "../connection.js";

export type ServicesSeen =
  | { readonly found: readonly TwinsServiceInfo[] }
  /** Why whether one runs is not known: the look's error, as its own line. */
  | { readonly unknown: string };

/** How long the look may take. */
export const LOOK_MS = 1000;

export async function servicesOnFleet(c: ToolConnection, prefix: string): Promise<ServicesSeen> {
  try {
    return { found: await findTwinsServices(c.url, prefix, { timeoutMs: LOOK_MS, ...c.login }) };
  } catch (err) {
    if (err instanceof PresenceLookUnfinished) return { unknown: err.message };
    return { unknown: `the look for twins services failed: ${(err as Error).message}` };
  }
}

/** The running services' client ids, comma-separated; undefined when none was found or none is known. */
export function servicesNamed(seen: ServicesSeen): string | undefined {
  if (!("found" in seen) || seen.found.length === 0) return undefined;
  return seen.found.map((s) => s.clientId).join(", ");
}
