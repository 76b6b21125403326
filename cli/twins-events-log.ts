/**
 * What `twinfleet twins` logs of its service's events: registrations, reports and configs (those the
 * broker held counted in one line), presence, nodes forgotten for room, and the convergence figure
 * when it moves (cli/commands/twins-run.ts).
 */
import type { Logger } from "pino";
import { type Twin, type Twins, wallScheduler } from "../twins/index.js";
import { ConvergenceLog } from "./convergence-log.js";
import { ForgottenLog } from "./forgotten-log.js";
import { ReplayedLog } from "./replayed-log.js";

export function logEvents(t: Twins, logger: Logger): { stop(): void } {
  const brief = (tw: Twin) => ({ node: tw.id, kind: tw.kind, profile: tw.profile, firmware: tw.firmware });
  // A node answering a query (any tool's) while online and registered, unchanged, is news to no one:
  // at debug, where every query put a line per live node at info (2,000 for a fleet of 2,000).
  t.on("twin-registered", (tw, first, again) => {
    if (again) logger.debug({ ...brief(tw), first }, "registered");
    else logger.info({ ...brief(tw), first }, "registered");
  });
  // What the broker held when the service subscribed is counted in one line (cli/replayed-log.ts).
  const replayedLog = new ReplayedLog(logger, wallScheduler);
  t.on("twin-updated", (tw, change, replayed) => {
    if (change !== "report" && change !== "config") return;
    const fields =
      change === "report"
        ? { node: tw.id, on: tw.reported?.on, stamp: tw.reported?.stamp }
        : { node: tw.id, follows: tw.follows };
    if (replayed) replayedLog.replayed(change, fields);
    else logger.info(fields, change);
  });
  t.on("twin-online", (tw) => logger.info({ node: tw.id }, "online"));
  t.on("twin-offline", (tw) => logger.info({ node: tw.id }, "offline"));
  const forgotten = new ForgottenLog(logger, wallScheduler);
  // A retired node is logged by the service itself (twins/retire.ts).
  t.on("twin-forgotten", (node, why) => why === "room" && forgotten.forgotten(node));
  // The feed recomputes on every report; the log says when the figures move, at most once a second.
  const convergence = new ConvergenceLog(logger, wallScheduler);
  t.on("convergence", (r) => convergence.report(r));
  return {
    stop: () => {
      forgotten.stop();
      convergence.stop();
      replayedLog.flush();
    },
  };
}
