/**
 * Whether the broker dropped messages on their way to a one-shot command (cli/commands/twins-run.ts),
 * told on stderr instead of acting silently on part of the fleet. Two signs: Mosquitto's count
 * (`$SYS/broker/publish/messages/dropped`, heard when it rises during the command: it is published
 * every `sys_interval`, and kept 60 s) and the replay's marker (twins/replay-marker.ts), published on
 * a granted subscription after the replay and passed by a later one: a client queue full of the
 * replay drops it with the rest. With Mosquitto's defaults a QoS 1 read listed 1,020 of 3,000 nodes
 * and said nothing. A marker only slow (neither it nor the later one back) is told as such, without
 * the queue's advice: a loaded host once had it blamed on a broker that drops nothing. Both signs
 * missed a Mosquitto with `max_queued_bytes 200` beside 300 nodes (`nodes` listed 50 without a word in
 * most tries), so a third, sure one comes first: the replay the broker cut, asked after each of the
 * command's SUBSCRIBEs (twins/replay-cut.ts), told with how many nodes the command read.
 * Markers the broker acknowledged and sent neither back are told as a write this login may
 * not make (a read-only login on Mosquitto, whose ACL drops the publish after its PUBACK): that was
 * told as slow.
 */
import { type MarkerFate, type Twins, WHOLE_TOPIC } from "../../twins/index.js";

export class DropsSeen {
  /** Messages the broker's count rose by during the command. */
  private dropped = 0;
  /** Replay markers a later marker passed: dropped. */
  private markersLost = 0;
  /** How long the replay's marker, neither back nor passed, had been out (ms); undefined when it came back or was passed. */
  private notBackMs: number | undefined;
  /** The filters whose replay the broker cut (twins/replay-cut.ts). */
  private cut: readonly string[] = [];
  /** The broker acknowledged the markers not back (ReplayMarker.fate): it took them. */
  private acknowledged = false;
  private readonly rose = (what: string, n: number) => {
    if (what === "to-clients") this.dropped += n;
  };

  constructor(private readonly t: Twins) {
    t.on("broker-dropped", this.rose);
  }

  /** The replay's markers not back, judged (ReplayMarker.fate). */
  replayRead(fate: MarkerFate): void {
    this.markersLost = fate.dropped;
    this.notBackMs = fate.notBackMs;
    this.cut = fate.cut?.cut ?? [];
    this.acknowledged = fate.acknowledged === true;
  }

  stop(): void {
    this.t.off("broker-dropped", this.rose);
  }

  /** The warning, or undefined when there was no sign. `focus`: the nodes read first, by name. */
  told(url: string, prefix: string, focus: readonly string[]): string | undefined {
    const { cut } = this;
    if (this.dropped === 0 && this.markersLost === 0 && this.notBackMs === undefined && cut.length === 0)
      return undefined;
    // The nodes named are spared only when the SUBSCRIBEs naming them came whole.
    const named = focus.length > 0 && !cut.some((f) => !f.endsWith("/+"));
    const spared = named ? ` (not of ${focus.join(", ")}, read first by name)` : "";
    const misses = `what this command read of the fleet under ${prefix} may miss nodes, or their configs, statuses or reports${spared}`;
    const marker = `the marker this command published after its subscriptions (${prefix}/twins-probe/…/replay)`;
    const fix = `set max_queued_messages 0 in mosquitto.conf and leave max_queued_bytes at 0 (docs/mosquitto.md, "Queues")`;
    if (cut.length > 0) {
      const n = this.t.count();
      const what = cut.length <= 4 ? cut.join(", ") : `${cut.length} topic filters`;
      return `this command's read of the fleet under ${prefix} is incomplete: it read ${n} ${n === 1 ? "node" : "nodes"}, but the broker at ${url} cut its replay of the retained messages on ${what} (the retained ${WHOLE_TOPIC} asked for after them never came), dropping what did not fit this command's queue (Mosquitto's max_queued_bytes, max_queued_messages): more nodes, or configs, statuses or reports of those read, are missing${spared}; set max_queued_bytes 0 and max_queued_messages 0 in mosquitto.conf (docs/mosquitto.md, "Queues")`;
    }
    if (this.dropped > 0)
      return `the broker at ${url} dropped ${this.dropped} messages on their way to its clients during this command ($SYS/broker/publish/messages/dropped rose): a client's queue was full (Mosquitto's max_queued_messages, max_queued_bytes), and if it was this command's, ${misses}; ${fix}`;
    const within = `${((this.notBackMs ?? 0) / 1000).toFixed(1)} s`;
    if (this.markersLost === 0 && this.acknowledged)
      return `the broker at ${url} acknowledged ${marker}, and a second one published after it, but sent neither back within ${within}: this login may not be allowed to write ${prefix}/twins-probe/… (Mosquitto acknowledges a publish its access rules deny and drops it, its log saying "Denied PUBLISH"), or its queue stayed full. Without the marker the end of the broker's replay of the retained state went unmarked: this command read what the broker sent within its whole --wait, which is all of it on a broker that sends the replay at once (Mosquitto), unless the broker dropped some; let this login read and write ${prefix}/twins-probe/# (docs/mosquitto.md) and the command ends as soon as the replay is over`;
    if (this.markersLost === 0)
      return `the broker at ${url} had not sent back ${marker} within ${within}, nor a second one published after it: the broker or this host is slow, so ${misses}; a longer --wait gives it more time (or access rules let this login read ${prefix}/twins-probe/# but not write it: docs/mosquitto.md grants both)`;
    return `the broker at ${url} never sent back ${marker}, and sent back one published after it: it dropped it, as it drops what does not fit a client's queue (Mosquitto's max_queued_messages, max_queued_bytes), so ${misses}; ${fix}`;
  }
}
