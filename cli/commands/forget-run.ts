/**
 * What `twinfleet forget` runs (declared in cli/commands/twins.ts): one or several nodes retired
 * (twins/retire.ts) over one connection, one after another; the running twins services are told by
 * each forget request. A node that cannot be forgotten (unknown, online without --force, its unpairs
 * stored as the broker went away) does not stop the others: each forgotten one is a JSON line on
 * stdout, and the command ends with exit 1 naming every node not forgotten and why. Before, a
 * building's worth of boards took one process, one connection and one --wait each.
 */
import type { Twins } from "../../twins/index.js";
import type { ToolConnection } from "../connection.js";
import type { CliIO } from "../main.js";
import { type ServicesSeen, servicesNamed, servicesOnFleet } from "./services-look.js";
import { checkId, elsewhere, type ForgetFlags, sayer, withTwins } from "./twins-run.js";

/** A node not forgotten, and why. */
interface NotForgotten {
  readonly node: string;
  readonly why: string;
}

/** Retires `nodes` (repeats taken once), in the order given. */
export async function runForget(nodes: readonly string[], flags: ForgetFlags, io: CliIO): Promise<void> {
  for (const node of nodes) checkId(node, "node");
  const ids = [...new Set(nodes)];
  await withTwins(io, "forget", flags, forgetAct(ids, flags, io), false, ids);
}

function forgetAct(ids: readonly string[], flags: ForgetFlags, io: CliIO) {
  return async (t: Twins, c: ToolConnection) => {
    const where = await elsewhere(t, flags.prefix);
    if (where !== "")
      throw new Error(`${ids.length === 1 ? "no node" : "none of"} ${ids.join(", ")} on the broker${where}`);
    const services = await servicesOnFleet(c, flags.prefix);
    const forgotten: string[] = [];
    const failed: NotForgotten[] = [];
    for (const node of ids) {
      const why = await forgetOne(t, node, flags, io);
      if (why === undefined) forgotten.push(node);
      else failed.push({ node, why });
    }
    if (forgotten.length > 0) sayer(io, "forget")(toldLine(forgotten, services));
    if (failed.length === 0) return;
    if (ids.length === 1) throw new Error((failed[0] as NotForgotten).why);
    throw new Error(
      `${failed.length} of ${ids.length} nodes not forgotten: ${failed.map((f) => `${f.node} (${f.why})`).join("; ")}`,
    );
  };
}

/** Forgets `node`, its outcome a JSON line on stdout; why it was not, otherwise. */
async function forgetOne(t: Twins, node: string, flags: ForgetFlags, io: CliIO): Promise<string | undefined> {
  if (t.get(node) === undefined)
    return `no node ${node} on the broker: nothing of it is retained (check the id)`;
  try {
    const done = await t.forget(node, { force: flags.force === true });
    // Stored for the broker's return by a command that ends now: nothing would ever send it.
    if (done.deferred !== undefined) return `${done.deferred}; give the command again`;
    io.stdout(`${JSON.stringify({ forgotten: true, ...done })}\n`);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** What the forgotten nodes mean for the twins services on the fleet. */
function toldLine(forgotten: readonly string[], services: ServicesSeen): string {
  const one = forgotten.length === 1;
  const what = one
    ? `${forgotten[0]} forgotten`
    : `${forgotten.length} nodes forgotten (${forgotten.join(", ")})`;
  const ids = servicesNamed(services);
  const later = `one started later with a --data that kept ${one ? `${forgotten[0]} lists it` : "them lists them"} again until forgotten there`;
  if ("unknown" in services)
    return `${what}; whether a twins service runs on this fleet is not known (${services.unknown}): a running one was sent the forget request and drops ${one ? "it" : "them"} from its view and its store (${later})`;
  if (ids === undefined) return `${what}; no twins service runs on this fleet (${later})`;
  return `${what}; the running twins service (${ids}) was told, and drops ${one ? "it" : "them"} from its view and its store`;
}
