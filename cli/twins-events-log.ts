/**
 * What a standalone twins service logs of its fleet's events (docs/cli.md, "Logs"). At info, what an
 * operator must read: a node going offline and coming back, a changed identity, a pairing that
 * changed (a burst of either, a site's power cut or a fleet's first pairing, in a few lines:
 * cli/burst-log.ts), the convergence figure when it moves, and a summary a minute of the rest
 * (cli/activity-log.ts). At debug, each report, register, first coming online and config that only
 * confirms the pairing the service knew: routine that grows with the fleet's traffic.
 */
import type { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { Scheduler } from "../node/scheduler.js";
import type { NodeId } from "../protocol/index.js";
import type { Twins } from "../twins/index.js";
import type { Twin, TwinsEvents } from "../twins/types.js";
import { ActivityLog } from "./activity-log.js";
import { BurstLog, presenceBursts } from "./burst-log.js";
import { ConvergenceLog } from "./convergence-log.js";
import { ForgottenLog } from "./forgotten-log.js";
import { ReplayedLog } from "./replayed-log.js";

/** The service as its log sees it: its events and its twins. */
export type LoggedTwins = Pick<EventEmitter<TwinsEvents>, "on"> & Pick<Twins, "list" | "count">;

const identity = (tw: Twin) => `${tw.kind} ${tw.profile} ${tw.firmware}`;

export function logEvents(t: LoggedTwins, logger: Logger, sched: Scheduler): { stop(): void } {
  const brief = (tw: Twin) => ({ node: tw.id, kind: tw.kind, profile: tw.profile, firmware: tw.firmware });
  // What the log last told of each node: its identity (the store's at the start), its pairing, and
  // that it went offline (its return is then at info too).
  const identities = new Map<NodeId, string>();
  // The nodes that follow a source, kept as their configs come: the summary of a pairing burst, once a
  // second, walked every twin (1.9 s of a 27 s run's CPU at 20,000 twins).
  const following = new Set<NodeId>();
  for (const tw of t.list()) {
    if (tw.kind !== undefined) identities.set(tw.id, identity(tw));
    if (tw.follows.length > 0) following.add(tw.id);
  }
  const pairings = new Map<NodeId, string>();
  const away = new Set<NodeId>();
  // Shown unheard since a broker restart: online before it, so its being heard is no coming online.
  const unheard = new Set<NodeId>();
  const fleet = () => {
    const twins = t.list();
    return { online: twins.filter((tw) => tw.presence === "online").length, known: twins.length };
  };
  const activity = new ActivityLog(logger, sched, fleet);
  // A whole site going offline or coming back at once is a few lines, not one per node.
  const presence = presenceBursts(logger, sched, fleet);
  t.on("twin-registered", (tw, first, again) => {
    const was = identities.get(tw.id);
    identities.set(tw.id, identity(tw));
    // A node answering a query (any tool's) while online and registered, unchanged, is news to no
    // one, and nor is a node registering as what it was (its start, its return): each query put a
    // line per live node at info (2,000 for a fleet of 2,000), each fleet start one per node.
    if (again || was === undefined || was === identity(tw))
      activity.registeredQuietly({ ...brief(tw), first }, first);
    else logger.info({ ...brief(tw), first }, "registered");
  });
  // A fleet paired at once (its first pairing: 500 nodes, 500 lines within 2 s) is a few lines too.
  const configs = new BurstLog(logger, sched, {
    config: () => {
      const known = t.count();
      return {
        text: `${following.size} of ${known} nodes follow a source`,
        fields: { following: following.size, known },
      };
    },
  });
  // What the broker held when the service subscribed is counted in one line (cli/replayed-log.ts).
  const replayedLog = new ReplayedLog(logger, sched);
  t.on("state-replayed", (_node, change) => replayedLog.stood(change));
  t.on("twin-updated", (tw, change, replayed) => {
    if (change === "presence" && tw.presence === "unheard") unheard.add(tw.id);
    if (change === "report") {
      const fields = { node: tw.id, on: tw.reported?.on, stamp: tw.reported?.stamp };
      if (replayed) replayedLog.replayed(change, fields);
      else activity.report(tw.id, fields);
      return;
    }
    if (change !== "config") return;
    if (tw.follows.length > 0) following.add(tw.id);
    else following.delete(tw.id);
    const fields = { node: tw.id, follows: tw.follows };
    const pairing = tw.follows.join(",");
    const same = pairings.get(tw.id) === pairing;
    pairings.set(tw.id, pairing);
    if (replayed) replayedLog.replayed(change, fields);
    // A node confirming the pairing it was given (each node at its start) changed nothing.
    else if (same) logger.debug(fields, "config");
    else configs.node("config", tw.id, fields);
  });
  t.on("twin-online", (tw) => {
    if (unheard.delete(tw.id)) return activity.heardAgain(tw.id);
    if (!away.delete(tw.id)) return activity.cameOnline(tw.id);
    presence.node("online", tw.id);
    activity.presence(true);
  });
  t.on("twin-offline", (tw) => {
    unheard.delete(tw.id);
    away.add(tw.id);
    presence.node("offline", tw.id);
    activity.presence(false);
  });
  const forgotten = new ForgottenLog(logger, sched);
  t.on("twin-forgotten", (node, why) => {
    identities.delete(node);
    pairings.delete(node);
    following.delete(node);
    away.delete(node);
    unheard.delete(node);
    // A retired node is logged by the service itself (twins/retire.ts).
    if (why === "room") forgotten.forgotten(node);
  });
  // The feed recomputes on every report; the log says when the figures move, at most once a second.
  const convergence = new ConvergenceLog(logger, sched);
  t.on("convergence", (r) => convergence.report(r));
  return {
    stop: () => {
      forgotten.stop();
      convergence.stop();
      replayedLog.flush();
      presence.flush();
      configs.flush();
      activity.flush();
    },
  };
}
