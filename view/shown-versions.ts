/**
 * The versions a view shows of a twins service that can be started again (a run's twins-restart:
 * fleet/twins-host.ts). Each new service counts its twins' versions from 0, so the versions shown
 * go on from above the highest shown before: a page keeps the newest version it has seen of each
 * node, and took the lower ones of the new service for old news, showing the fleet as it was, live,
 * until they passed the old (30 s into a 40-node run at 6 presses a minute); and an `If-Match` read
 * before the restart could name a version the new service reached with another state.
 */
export class ShownVersions {
  private base = 0;
  private highest = 0;
  private generation: number | undefined;

  /** The version shown for `version` of the service numbered `generation` (undefined: there is one). */
  of(version: number, generation: number | undefined): number {
    if (generation !== this.generation) {
      if (this.generation !== undefined) this.base = this.highest + 1;
      this.generation = generation;
    }
    const shown = this.base + version;
    if (shown > this.highest) this.highest = shown;
    return shown;
  }
}
