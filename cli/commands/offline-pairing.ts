/**
 * What `twinfleet pair` and `unpair` say of a node not online: that its retained config was written
 * and who sends it the pairing on its return, or that the pairing was already desired and nothing
 * was written.
 */
import type { Twin } from "../../twins/index.js";
import type { ToolConnection } from "../connection.js";
import { servicesNamed, servicesOnFleet } from "./services-look.js";

/**
 * A `pair` of an offline node whose pairing with `source` was already desired: nothing was written
 * (it said "its retained config was written, version 5" of the config that stood, untouched).
 */
export function alreadyHead(
  twin: Twin | undefined,
  node: string,
  source: string,
  seen: boolean,
  following: boolean,
): string {
  const config = twin?.config;
  const held =
    config === undefined
      ? "nothing written"
      : `its retained config, version ${config.version}, names ${source}: nothing written`;
  const state = offlineState(seen);
  if (following) return `${node} already follows ${source} (${held}); it ${state}.`;
  return `${node} ${state}: its pairing with ${source} was already pending until it returns (${held}).`;
}

/** What a node not online is: offline, or (no trace of it on the broker: a typo?) never seen. */
export function offlineState(seen: boolean): string {
  return seen ? "is offline" : "has never been seen on this broker (check the id)";
}

/** What happens to a pairing written for an offline node: who will send it when the node returns. */
export async function offlineNote(
  c: ToolConnection,
  prefix: string,
  node: string,
  head: string,
): Promise<string> {
  const services = await servicesOnFleet(c, prefix);
  const ids = servicesNamed(services);
  if (ids !== undefined)
    return `${head} The running twins service (${ids}) sends it the pairing when it returns and shows it confirmed.`;
  const without = `${node} adopts the written config when it next connects, but nothing re-sends it or confirms it`;
  if ("unknown" in services)
    return `${head} Whether a twins service runs on this fleet is not known (${services.unknown}): a running one sends it the pairing when it returns and shows it confirmed; with none, ${without}.`;
  return `${head} No twins service runs on this fleet: ${without}; run \`twinfleet twins\` to keep pairings.`;
}
