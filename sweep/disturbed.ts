/**
 * What else went on during a sweep point that its figures mix in, as the fleet run saw it: another
 * client taking the nodes' sessions over (a second fleet or sweep with the same ids on the broker),
 * another controller beside the run's twins service, the sweep's own process stopped for a while.
 * The run's report says so (fleet/session-clashes.ts, fleet/own-beside.ts, fleet/stall-report.ts);
 * a point kept only its figures, so a point measured beside another sweep read as a clean one.
 */
export interface Disturbed {
  /** Nodes whose sessions another client with the same id kept taking over, and how often in all. */
  readonly idsInUse?: { readonly nodes: number; readonly closes: number };
  /** Other controllers (twins services) seen beside the run's own or the one it joined. */
  readonly controllersBeside?: readonly string[];
  /** How long the sweep's own process did not run, in all (stopped, its host paused). */
  readonly stalledS?: number;
}

/** What of a fleet run's report (fleet/report.ts) tells of them. */
export interface DisturbanceSource {
  readonly sessionClashes?: { readonly nodes: number; readonly closes: number };
  readonly ownTwins?: { readonly beside: readonly { readonly clientId: string }[] };
  readonly joinedTwins?: { readonly beside?: readonly { readonly clientId: string }[] };
  readonly stalls?: readonly { readonly durationMs: number }[];
}

/** The run's disturbances; undefined when there was none. */
export function disturbedOf(r: DisturbanceSource): Disturbed | undefined {
  const c = r.sessionClashes;
  const beside = [...(r.ownTwins?.beside ?? []), ...(r.joinedTwins?.beside ?? [])].map((b) => b.clientId);
  const stalledMs = (r.stalls ?? []).reduce((a, s) => a + s.durationMs, 0);
  const d: Disturbed = {
    ...(c ? { idsInUse: { nodes: c.nodes, closes: c.closes } } : {}),
    ...(beside.length > 0 ? { controllersBeside: [...new Set(beside)] } : {}),
    ...(stalledMs > 0 ? { stalledS: Math.round(stalledMs / 100) / 10 } : {}),
  };
  return Object.keys(d).length > 0 ? d : undefined;
}

/** In a few words, for a point's line, a summary row, a CSV cell, the page: `IDS IN USE: …; …`. */
export function disturbedWords(d: Disturbed): string {
  return [
    ...(d.idsInUse
      ? [
          `IDS IN USE: ${d.idsInUse.nodes} nodes' sessions taken over ${d.idsInUse.closes} times by another client with their ids (another fleet or sweep on this broker)`,
        ]
      : []),
    ...(d.controllersBeside
      ? [`ANOTHER CONTROLLER beside the twins service (${d.controllersBeside.join(", ")})`]
      : []),
    ...(d.stalledS !== undefined
      ? [`STALLED ${d.stalledS.toFixed(1)} s (the sweep's process did not run)`]
      : []),
  ].join("; ");
}

/** In a word or two each, for a table's cell: `IDS IN USE, STALLED 5.0 s`. */
export function disturbedShort(d: Disturbed): string {
  return [
    ...(d.idsInUse ? [`IDS IN USE (${d.idsInUse.nodes} nodes)`] : []),
    ...(d.controllersBeside ? ["ANOTHER CONTROLLER"] : []),
    ...(d.stalledS !== undefined ? [`STALLED ${d.stalledS.toFixed(1)} s`] : []),
  ].join(", ");
}
