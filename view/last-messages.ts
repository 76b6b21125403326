/**
 * The last few messages of the node a view looks at (its detail's `lastMessages`): `hh:mm:ss what`,
 * by the wall clock (UTC), newest last.
 */
import { formatStamp } from "../protocol/index.js";
import type { Twin } from "../twins/index.js";

const MESSAGES_KEPT = 6;

export class LastMessages {
  private readonly lines: string[] = [];

  /** The lines kept, oldest first (a copy). */
  all(): string[] {
    return [...this.lines];
  }

  clear(): void {
    this.lines.length = 0;
  }

  /**
   * `t` changed (`change`, a TwinChange) at `wallNow` ms since the epoch. A follower that came or went
   * (`followers`) is no message of this node: its list and version moved, nothing it sent.
   */
  remember(t: Twin, change: string, wallNow: number): void {
    if (change === "followers") return;
    const r = t.reported;
    const what =
      change === "report" && r
        ? `report ${r.on ? 1 : 0} ${formatStamp(r.stamp)}`
        : change === "config" && t.config
          ? `config v${t.config.version} [${t.config.sources.join(" ")}]`
          : change;
    const s = Math.floor(wallNow / 1000) % 86_400;
    const hhmmss = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60].map((n) =>
      String(n).padStart(2, "0"),
    );
    this.lines.push(`${hhmmss.join(":")} ${what}`);
    if (this.lines.length > MESSAGES_KEPT) this.lines.shift();
  }
}
