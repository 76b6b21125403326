/**
 * Whether the broker dropped messages on their way to a one-shot command (cli/commands/twins-run.ts),
 * told on stderr instead of acting silently on part of the fleet. Two signs: Mosquitto's count
 * (`$SYS/broker/publish/messages/dropped`, heard when it rises during the command: it is published
 * every `sys_interval`, and kept 60 s) and the replay's marker (twins/replay-marker.ts), published on
 * a granted subscription after the replay and never back: a client queue full of the replay drops it
 * with the rest. With Mosquitto's defaults a QoS 1 read listed 1,020 of 3,000 nodes and said nothing.
 */
import type { Twins } from "../../twins/index.js";

export class DropsSeen {
  /** Messages the broker's count rose by during the command. */
  private dropped = 0;
  /** Replay markers published and never back when the replay's wait ended. */
  private markersLost = 0;
  private readonly rose = (what: string, n: number) => {
    if (what === "to-clients") this.dropped += n;
  };

  constructor(private readonly t: Twins) {
    t.on("broker-dropped", this.rose);
  }

  /** The replay's wait is over: `unanswered` markers never came back. */
  replayRead(unanswered: number): void {
    this.markersLost = unanswered;
  }

  stop(): void {
    this.t.off("broker-dropped", this.rose);
  }

  /** The warning, or undefined when there was no sign. `focus`: the nodes read first, by name. */
  told(url: string, prefix: string, focus: readonly string[]): string | undefined {
    if (this.dropped === 0 && this.markersLost === 0) return undefined;
    const spared = focus.length > 0 ? ` (not of ${focus.join(", ")}, read first by name)` : "";
    const misses = `what this command read of the fleet under ${prefix} may miss nodes, or their configs, statuses or reports${spared}`;
    const fix = `set max_queued_messages 0 in mosquitto.conf and leave max_queued_bytes at 0 (docs/mosquitto.md, "Queues")`;
    if (this.dropped > 0)
      return `the broker at ${url} dropped ${this.dropped} messages on their way to its clients during this command ($SYS/broker/publish/messages/dropped rose): a client's queue was full (Mosquitto's max_queued_messages, max_queued_bytes), and if it was this command's, ${misses}; ${fix}`;
    return `the broker at ${url} never sent back the marker this command published after its subscriptions (${prefix}/twins-probe/…/replay): it dropped it, as it drops what does not fit a client's queue (Mosquitto's max_queued_messages, max_queued_bytes), so ${misses}; ${fix}. (Access rules that let this login read ${prefix}/twins-probe/# but not write it drop the marker too: docs/mosquitto.md grants both)`;
  }
}
