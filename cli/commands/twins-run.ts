/**
 * What the one-shot twins commands run (declared in cli/commands/twins.ts, which loads this module
 * only when one of them runs): `nodes`, `set`, `pair`, `unpair` and `forget` over a short-lived twins
 * service (which fail at once on a broker not there). The `twins` service is cli/commands/twins-service-run.ts:
 * with it here, each one-shot command loaded the web server, the embedded broker and the sim (~0.3 s).
 */
import { sleep } from "../../node/scheduler.js";
import { isNodeId } from "../../protocol/index.js";
import { shown } from "../../protocol/shown.js";
import { FollowLimitError, prefixesShown, startTwins, type Twins } from "../../twins/index.js";
import { prefixFlag, resolveConnection, type ToolConnection, wholeFlagIn } from "../connection.js";
import { UsageError } from "../errors.js";
import type { ConnectionFlags } from "../login-options.js";
import type { CliIO } from "../main.js";
import { DropsSeen } from "./dropped-replay.js";
import { alreadyHead, offlineNote, offlineState } from "./offline-pairing.js";
import { connectOnce, hostClock, type OneShotClock, settle, type Until } from "./one-shot-wait.js";
import { servicesNamed, servicesOnFleet } from "./services-look.js";
import { runSetVia, type ViaFlags, viaOrigin } from "./set-via.js";

/** The flags every twins command has. */
export interface FleetFlags extends ConnectionFlags {
  readonly broker: string;
  readonly prefix: string;
}

/** The one-shot commands' flags. */
export interface ConnFlags extends FleetFlags {
  readonly wait: string;
}

/** The connection of a command's flags; its password is masked in all output from here on. */
export function connectionOf(flags: FleetFlags, io: CliIO, warn: (msg: string) => void): ToolConnection {
  prefixFlag(flags.prefix);
  const conn = resolveConnection(flags, io.env ?? process.env, warn);
  io.secret?.(conn.login.password);
  return conn;
}

/** The one-shot commands, each line on stderr named after its command as every command's are. */
export type OneShotCommand = "nodes" | "set" | "pair" | "unpair" | "forget";
/** Writes a line on stderr as `twinfleet <command>: …`. */
export const sayer = (io: CliIO, command: OneShotCommand) => (line: string) =>
  io.stderr(`twinfleet ${command}: ${line}\n`);
const warner = (io: CliIO, command: OneShotCommand) => {
  const say = sayer(io, command);
  return (msg: string) => say(`warning: ${msg}`);
};
/**
 * A one-shot command over a short-lived twins service. `query`: make every live node answer (its
 * register and report) — only `nodes` does, for the kind, profile and firmware it lists, which no
 * retained message holds (protocol.md §3). `set`, `pair`, `unpair` and `forget` act on a few nodes
 * and need only the retained statuses, configs and reports: they used to query too, and each made
 * the whole fleet answer (2,000 registers and 2,000 reports for a `set` beside 2,000 nodes).
 */
export const withTwins = (
  io: CliIO,
  command: OneShotCommand,
  flags: ConnFlags,
  act: (t: Twins, c: ToolConnection, until: Until) => Promise<void>,
  query = false,
  focus: readonly string[] = [],
) =>
  runOneShot(connectionOf(flags, io, warner(io, command)), flags, act, {
    query,
    focus,
    warn: warner(io, command),
    clock: io.clock ?? hostClock(),
  });

export async function runNodes(flags: ConnFlags, io: CliIO): Promise<void> {
  await withTwins(
    io,
    "nodes",
    flags,
    async (t) => {
      io.stdout(`${JSON.stringify(t.list(), null, 2)}\n`);
      const where = await elsewhere(t, flags.prefix);
      if (where !== "") io.stderr(`twinfleet nodes: no node on the broker${where}\n`);
    },
    true,
  );
}

/** `set`'s flags: with `--via`, the set goes through that twins service's API (cli/commands/set-via.ts). */
export interface SetFlags extends Omit<ConnFlags, "broker">, Partial<Omit<ViaFlags, "via">> {
  readonly broker?: string;
  readonly via?: string;
}

export async function runSet(node: string, value: string, given: SetFlags, io: CliIO): Promise<void> {
  checkId(node, "node");
  if (value !== "on" && value !== "off") throw new UsageError(`value must be on or off, not ${shown(value)}`);
  if (given.via !== undefined) {
    viaOrigin(given.via);
    if (given.broker !== undefined)
      throw new UsageError(
        "give --broker or --via, not both: with --via the set goes through that twins service, on its own broker",
      );
    const wait = waitMs(given as ConnFlags);
    return runSetVia(node, value === "on", { ...given, via: given.via }, wait, io);
  }
  if (given.httpToken !== undefined || given.httpTokenFile !== undefined)
    throw new UsageError("--http-token and --http-token-file need --via");
  if (given.broker === undefined)
    throw new UsageError("give --broker <url> (or --via <url>, a running twins service's web address)");
  const flags = { ...given, broker: given.broker };
  const say = sayer(io, "set");
  await withTwins(
    io,
    "set",
    flags,
    async (t, c, until) => {
      const twin = t.get(node);
      if (twin === undefined)
        throw new Error(`no node "${node}" on the broker${await elsewhere(t, flags.prefix)}`);
      if (twin.presence !== "online")
        throw new Error(await notKept(c, flags.prefix, node, value, twin.presence));
      const counter = await t.set(node, value === "on");
      const done = await until(() => (t.get(node)?.reported?.stamp.counter ?? 0) > counter, waitMs(flags));
      io.stdout(`${JSON.stringify({ node, on: value === "on", counter, confirmed: done })}\n`);
      if (done) return;
      // One-shot: nothing stored, so a lastSeen is a message the node sent during this command (a
      // live node answers the set itself with its report at once).
      const silent = t.get(node)?.lastSeen === undefined;
      say(`${node} has not reported the new state yet${silent ? unheard : ""}`);
    },
    false,
    [node],
  );
}

export async function runPairing(
  pairing: boolean,
  follower: string,
  source: string,
  flags: ConnFlags,
  io: CliIO,
): Promise<void> {
  checkId(follower, "follower");
  checkId(source, "source");
  if (follower === source) throw new UsageError(`a node cannot follow itself (${follower})`);
  const command = pairing ? "pair" : "unpair";
  const act = pairingAct(pairing, follower, source, flags, sayer(io, command), io);
  await withTwins(io, command, flags, act, false, [follower, source]);
}

function pairingAct(
  pairing: boolean,
  follower: string,
  source: string,
  flags: ConnFlags,
  say: (line: string) => void,
  io: CliIO,
) {
  return async (t: Twins, c: ToolConnection, until: Until) => {
    const where = await elsewhere(t, flags.prefix);
    const seen = t.get(follower) !== undefined;
    const online = t.get(follower)?.presence === "online";
    const sourceSeen = t.get(source) !== undefined;
    const outcome = pairing
      ? await t.pair(follower, source).catch((e: unknown) => {
          throw e instanceof FollowLimitError ? new Error(`${e.message}: ${unpairCommand(e, c, flags)}`) : e;
        })
      : await t.unpair(follower, source);
    // Held for the broker's return by a service that ends now: nothing would ever send it.
    if (!outcome.sent) throw new Error(`${outcome.why}: the pairing may not have been sent; give it again`);
    // An offline node cannot confirm: say so now instead of waiting for nothing.
    const done = online ? await until(() => t.get(follower)?.pairing === "confirmed", waitMs(flags)) : false;
    // A pairing already desired wrote nothing: there is no write to see kept.
    const already = outcome.already === true;
    if (!online && !already) await configKept(t, c, flags, follower, until);
    const twin = t.get(follower);
    const result = { follower, source, paired: pairing, follows: twin?.follows ?? [] };
    io.stdout(`${JSON.stringify({ ...result, confirmed: done, pending: !done })}\n`);
    if (!online && already) {
      // Following it, nothing waits; pending, who sends it on the node's return is told as for a write.
      const following = twin?.follows.some((s) => s === source) === true;
      const head = alreadyHead(twin, follower, source, seen, following);
      say(following ? head : await offlineNote(c, flags.prefix, follower, head));
    } else if (!online) {
      const version = twin?.desired.configVersion ?? 0;
      const head = `${follower} ${offlineState(seen)}: the pairing is pending until it returns (its retained config was written, version ${version}).`;
      say(await offlineNote(c, flags.prefix, follower, head));
    } else if (!done) say(`${follower} has not confirmed the pairing yet`);
    // A source the broker has no trace of may be a typo (n-0099 for n-0009): a board paired ahead
    // of its first boot is not, so it is told, not refused.
    if (where !== "") say(`no node on the broker${where}`);
    if (pairing && !sourceSeen)
      say(
        `${source} has never been seen on this broker (check the id): ${follower} follows it once it reports`,
      );
  };
}

/** The exact `twinfleet unpair` that makes room: the follower's first source, over this connection. */
function unpairCommand(e: FollowLimitError, c: ToolConnection, flags: ConnFlags): string {
  const words = ["twinfleet", "unpair", e.follower, e.sources[0] ?? "", "--broker", c.url];
  if (flags.prefix !== "tf") words.push("--prefix", flags.prefix);
  if (c.login.username !== undefined) words.push("--username", c.login.username);
  for (const [flag, value] of [
    ["--password-file", flags.passwordFile],
    ["--ca", flags.ca],
    ["--cert", flags.cert],
    ["--key", flags.key],
  ] as const)
    if (value !== undefined) words.push(flag, value);
  if (flags.insecure === true) words.push("--insecure");
  // A password given on the command line is not repeated (it is masked in every line).
  const quoted = words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`));
  return quoted.join(" ");
}

export interface ForgetFlags extends ConnFlags {
  readonly force?: boolean;
}

/**
 * The config written for an offline node comes back (the command subscribes to the configs) once the
 * broker keeps it. Mosquitto acknowledges a publish its access rules deny, and drops it: the command
 * used to say "its retained config was written" of a config the broker never held.
 */
async function configKept(
  t: Twins,
  c: ToolConnection,
  flags: ConnFlags,
  node: string,
  until: Until,
): Promise<void> {
  const version = t.get(node)?.desired.configVersion;
  const ms = waitMs(flags);
  if (await until(() => t.get(node)?.config?.version === version, ms)) return;
  const login = c.login.username !== undefined ? `the login ${c.login.username}` : "an anonymous login";
  throw new Error(
    `the broker at ${c.url} acknowledged the config written for ${node} (version ${version}) but did not deliver it back within ${Math.max(ms, 1000)} ms: it did not keep it, and the pairing is not written. Do its access rules let ${login} write ${flags.prefix}/config/${node}? (Mosquitto drops a denied publish and acknowledges it all the same: its log says "Denied PUBLISH")`,
  );
}

async function runOneShot(
  c: ToolConnection,
  flags: ConnFlags,
  act: (t: Twins, c: ToolConnection, until: Until) => Promise<void>,
  how: {
    readonly query: boolean;
    readonly focus: readonly string[];
    readonly warn: (msg: string) => void;
    readonly clock: OneShotClock;
  },
): Promise<void> {
  const wait = waitMs(flags);
  const { scheduler, stalls } = how.clock;
  // A one-shot command holds no presence: it is not a controller that stays. Nor does it probe the
  // broker: it is gone before a silence could be told. It reads the retained state at QoS 0, which
  // Mosquitto sends whole past its client queue (twins/subscriptions.ts), and the nodes it acts on first.
  const start = () =>
    startTwins({
      url: c.url,
      ...c.login,
      prefix: flags.prefix,
      connectTimeoutMs: 5000,
      presence: false,
      probe: false,
      queryOnConnect: how.query,
      focus: how.focus,
      replayCheck: true,
      scheduler,
      ...(stalls !== undefined ? { stalls } : {}),
    });
  const t = await connectOnce(start, how.warn);
  const until: Until = (cond, ms, least) => settle(how.clock, t, cond, ms, least);
  const drops = new DropsSeen(t);
  try {
    await fleetRead(t, wait, how.query, how.clock, until);
    // A marker not back yet: one more behind it tells a drop from a slow broker, within `wait` more.
    if (t.replayFate !== undefined) drops.replayRead(await t.replayFate(wait));
    await act(t, c, until);
  } finally {
    drops.stop();
    await t.close();
    const told = drops.told(c.url, flags.prefix, how.focus);
    if (told !== undefined) how.warn(told);
  }
}

/**
 * The fleet's state as the command acts on it, within `wait` ms: the broker's retained state, once
 * its replay is over (twins/replay-marker.ts), and with `query` the answer of every node its retained
 * status shows online (a register during the command). Each part ends as soon as it is there: the
 * commands used to wait the whole `wait` every time (1.5 s for `nodes` and `forget`, 1 s for the others).
 * A replay's wait run out in the command's own stall is waited once more: its marker was in the socket.
 */
async function fleetRead(
  t: Twins,
  wait: number,
  query: boolean,
  clock: OneShotClock,
  until: Until,
): Promise<void> {
  const { scheduler, stalls } = clock;
  const start = scheduler.now();
  const stalled = () => stalls?.explaining(scheduler.now()) !== undefined;
  const over =
    t.replayOver !== undefined && ((await t.replayOver(wait)) || (stalled() && (await t.replayOver(wait))));
  if (!over) {
    // No marker (a service not over a URL), or a replay not over in time: the whole wait, as before.
    const left = wait - (scheduler.now() - start);
    if (left > 0) await sleep(scheduler, left);
    return;
  }
  if (!query) return;
  const answered = () =>
    t.list().every((twin) => twin.presence !== "online" || twin.registeredAt !== undefined);
  await until(answered, wait - (scheduler.now() - start), 0);
}

const unheard =
  ", and sent nothing during the command, not even a report answering the set: it is online only by the status the broker kept, which a broker restarted on its store keeps without the node's last will; the node may be gone (a longer --wait gives a slow one more time)";

/**
 * Where the fleet may be when the broker holds no node at all under the command's prefix (a prefix
 * or a broker that is not the fleet's): a clause for the message, naming the prefixes it holds nodes
 * under; "" while the prefix has nodes. It used to say only `no node "n-0001" on the broker` of a
 * node there under another prefix, and `nodes` printed `[]`.
 */
export async function elsewhere(t: Twins, prefix: string): Promise<string> {
  if (t.list().length > 0) return "";
  const others = await t.otherPrefixes();
  const where = ` under prefix ${prefix}`;
  if (others === undefined) return `${where}, nor any node under it: check --prefix and --broker`;
  if (others.length === 0)
    return `${where}, nor under any other prefix: is it the fleet's broker (--broker)?`;
  return `${where}; it holds nodes under ${prefixesShown(others)}: give --prefix ${others[0]?.prefix} if that is the fleet`;
}

/**
 * Why a one-shot set refuses a node that is not online, and the way that keeps one: this command ends
 * now and the broker queues nothing for a node away (clean sessions), while a running twins service
 * keeps a set until the node returns (its API answers 202). It said only "commands are not queued for
 * offline nodes", where the service's API took the same set.
 */
async function notKept(c: ToolConnection, prefix: string, node: string, value: string, presence: string) {
  const services = await servicesOnFleet(c, prefix);
  const body = `'{"on":${value === "on"}}'`;
  const how = `twinfleet set ${node} ${value} --via http://HOST:PORT --http-token-file FILE (its --http address and token), or curl -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d ${body} http://HOST:PORT/api/nodes/${node}/state`;
  const head = `${node} is ${presence}: a set from this command would be lost (it ends now, and the broker queues nothing for a node away)`;
  const ids = servicesNamed(services);
  if (ids !== undefined)
    return `${head}; the running twins service (${ids}) keeps a set until the node returns: ${how}`;
  if ("unknown" in services)
    return `${head}; whether a twins service runs on this fleet to keep it is not known (${services.unknown}): a running one keeps a set until the node returns: ${how}`;
  return `${head}, and no twins service runs on this fleet to keep it: start one with \`twinfleet twins --broker ${c.url} --http PORT --data DIR\`, then ${how}`;
}

export function checkId(s: string, what: string): void {
  if (!isNodeId(s)) {
    throw new UsageError(`${what} ${shown(s)} is not a node id (1-23 characters of A-Z a-z 0-9 _ -)`);
  }
}

/** The longest a timer waits (2^31 − 1 ms, about 24.8 days); Node fires a longer one after 1 ms. */
const MAX_WAIT_MS = 2 ** 31 - 1;

export function waitMs(flags: ConnFlags): number {
  return wholeFlag("--wait", flags.wait, "milliseconds", 0, MAX_WAIT_MS);
}

/**
 * A flag's plain decimal whole number of `unit`, from `min` to `max`; a usage error naming the flag
 * otherwise.
 */
export function wholeFlag(
  flag: string,
  raw: string,
  unit: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const least = min > 0 ? `, at least ${min}` : "";
  const most = max < Number.MAX_SAFE_INTEGER ? `, at most ${max}` : "";
  return wholeFlagIn(flag, raw, min, max, `a whole number of ${unit}${least}${most}`);
}
