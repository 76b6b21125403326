/**
 * The young generation of a virtual run's worker threads. A worker given resource limits (a part has
 * its heap limit set) does not take the semi-space size asked of the process
 * (`--max-semi-space-size`, in node's flags or NODE_OPTIONS): it gets V8's default, 32 MB here. The
 * young generation's collections are a virtual run's largest single cost, and they cost less the
 * larger it is (docs/scale.md), so a part gets the semi-space asked for, and at least 64 MB.
 */

/** The semi-space a part gets at least (MB): what the project's virtual runs are measured with. */
export const PART_SEMI_SPACE_MIN_MB = 64;

/** The semi-space size (MB) `--max-semi-space-size` asks for in `args` (the last one given), if any. */
export function semiSpaceAskedMB(args: readonly string[]): number | undefined {
  let asked: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = (args[i] as string).replace(/_/g, "-");
    let value: string | undefined;
    if (a.startsWith("--max-semi-space-size=")) value = a.slice("--max-semi-space-size=".length);
    else if (a === "--max-semi-space-size") value = args[++i];
    const mb = Number(value);
    if (value !== undefined && value !== "" && Number.isFinite(mb) && mb > 0) asked = mb;
  }
  return asked;
}

/**
 * `resourceLimits.maxYoungGenerationSizeMb` for a part, from this process's flags: V8 (Node 20) sizes
 * a young generation of 1.5 semi-spaces (96 MB gives a 64 MB semi-space, read back from
 * `v8.getHeapSpaceStatistics()` in a worker).
 */
export function partYoungGenerationMB(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): number {
  const asked = semiSpaceAskedMB([...(nodeOptions ?? "").split(/\s+/).filter((s) => s !== ""), ...execArgv]);
  return Math.ceil(Math.max(asked ?? 0, PART_SEMI_SPACE_MIN_MB) * 1.5);
}
