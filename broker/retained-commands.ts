/**
 * Commands, and registers, are never retained (protocol.md §3): a set (`S1` on `<p>/state/<id>`), a pairing command
 * (`F1`/`U1` on `<p>/subscribe|unsubscribe/<id>`) or a query (`Q1` on `<p>/query`) is for the nodes
 * connected when it is sent, and a forget request (`D1` on `<p>/forget/<id>`) for the control servers. A node cannot tell a retained one from a fresh one (PubSubClient does not
 * pass the RETAIN flag to the sketch), so a command a tool published with the retain flag was carried
 * out again every time the node subscribed — at each reconnect, after every broker restart, each time
 * with a new stamp that its followers took up: `S1 1 3` retained on `tf/state/n-0020` switched n-0020
 * and its ring on after the broker was restarted, with no press and nothing in any log.
 *
 * A register (`G1` on `<p>/register/<id>`) is no command, but a node sends it to the control
 * servers of the moment (its sync, its answer to a query), never retained: one a board or tool
 * published with the retain flag was replayed at every start of a twins service and taken for the
 * node answering its query: a dead node shown online with the kind it claimed for 23.5 s after each
 * start, holding up every `sim --broker` on its ids as long; a made-up id listed, and back as new
 * after `twinfleet forget --force`, which clears a node's status, config and report only.
 *
 * The broker delivers such a publish to the subscribers of the moment, as any other, but keeps
 * nothing of it: it clears what the topic held instead, and says so. A store that holds retained
 * commands from before (a data directory, an older broker) is cleared of them as the broker starts.
 * Only a payload that decodes as the command of its topic, under a prefix-shaped first level, counts;
 * other applications' topics are left alone.
 */
import type { Logger } from "pino";
import { LogWindow } from "../node/log-window.js";
import { RealScheduler, type Scheduler } from "../node/scheduler.js";
import { decode, FORGET_ACTION, FORGET_REQUEST, Prefix, ProtocolError } from "../protocol/index.js";
import type { RetainedStore } from "./retained-cap.js";
import type { RetainedIndex, RetainedPacket } from "./retained-index.js";

const COMMANDS: ReadonlySet<string> = new Set(["state", "subscribe", "unsubscribe", "query", "register"]);
/** Lines a minute at most; past them the refusals are counted and told at the minute's end (node/log-window.ts). */
const LINES = 20;
const WINDOW_MS = 60_000;

/** The protocol command `packet` carries (`state`, `subscribe`, `unsubscribe`, `query`, `forget`), or `register`, if any. */
export function retainedCommand(packet: RetainedPacket): string | undefined {
  if (packet.payload.length === 0) return undefined;
  const slash = packet.topic.indexOf("/");
  if (slash < 1) return undefined;
  // Every retained report, config and status passes here: only a command's topic is decoded.
  const end = packet.topic.indexOf("/", slash + 1);
  const action = packet.topic.slice(slash + 1, end < 0 ? undefined : end);
  // A control server's forget request (`D1` on `<p>/forget/<id>`, protocol.md §3), replayed, would
  // forget the node again at every start of a control server.
  if (action === FORGET_ACTION)
    return shown(packet) === FORGET_REQUEST && isPrefix(packet.topic.slice(0, slash)) ? action : undefined;
  if (!COMMANDS.has(action)) return undefined;
  try {
    // The topic's first level as the prefix: Prefix() throws for one that cannot be (protocol.md §2).
    const msg = decode(Prefix(packet.topic.slice(0, slash)), packet.topic, packet.payload);
    return COMMANDS.has(msg.kind) ? msg.kind : undefined;
  } catch (err) {
    if (err instanceof ProtocolError) return undefined;
    throw err;
  }
}

function isPrefix(s: string): boolean {
  try {
    Prefix(s);
    return true;
  } catch {
    return false;
  }
}

function shown(packet: RetainedPacket): string {
  return Buffer.from(packet.payload).toString("latin1");
}

/**
 * Clears the retained commands and registers the store holds (with an index: memory, LevelDB), then
 * replaces its storeRetained (on this instance) with one that keeps none but clears the topic. Once
 * aedes has set the store up (the LevelDB index is loaded then), before any client is served. Returns
 * what stops its log window's timer (the broker closes).
 */
export async function keepNoRetainedCommands(
  store: RetainedStore,
  index: RetainedIndex | undefined,
  logger: Logger,
  scheduler: Scheduler = new RealScheduler(),
): Promise<() => void> {
  if (index !== undefined) await clearStoredCommands(store, index, logger);
  const storeRetained = store.storeRetained.bind(store);
  const window = new LogWindow<string>(scheduler, LINES, WINDOW_MS, (held, total) =>
    logger.warn(
      { byCommand: Object.fromEntries(held) },
      `${total} more retained commands or registers not kept in the minute, not logged one by one: publish them without the retain flag`,
    ),
  );
  store.storeRetained = async (packet) => {
    const command = retainedCommand(packet);
    if (command === undefined) return storeRetained(packet);
    window.log(command, () =>
      logger.warn(
        { topic: packet.topic, payload: shown(packet) },
        command === "register"
          ? `retained register not kept: a register is never retained (protocol.md §3), and a control server would take it, every time it subscribes (each start, every broker restart), for the node answering its query: a dead node shown online, a made-up one listed; delivered to the subscribers of the moment, the topic's retained message cleared. Publish registers without the retain flag`
          : `retained ${command} command not kept: commands are never retained (protocol.md §3), and a node (a control server, for a forget request) would carry it out again every time it subscribes (each reconnect, every broker restart); delivered to the subscribers of the moment, the topic's retained message cleared. Publish commands without the retain flag`,
      ),
    );
    return storeRetained({ ...packet, payload: Buffer.alloc(0) });
  };
  return () => window.stop();
}

/** Clears the retained commands and registers a store holds from before (they would be replayed to the nodes, the control servers). */
export async function clearStoredCommands(
  store: RetainedStore,
  index: RetainedIndex,
  logger: Logger,
): Promise<number> {
  const found = [...index.packets()].filter((p) => retainedCommand(p) !== undefined);
  for (const p of found) await store.storeRetained({ ...p, payload: Buffer.alloc(0) });
  if (found.length > 0) {
    logger.warn(
      { topics: found.slice(0, 10).map((p) => `${p.topic} ${shown(p)}`) },
      `cleared ${found.length} retained commands or registers the store held: neither is ever retained (protocol.md §3), and the nodes would carry the commands out again every time they subscribe, the control servers take a register for the node answering`,
    );
  }
  return found.length;
}
