/**
 * The console over a simulated run: opens it on a SimSource until the run is done or the user
 * closes it, and cuts the run short when the console closes first. A run on virtual time is watched
 * at real-time speed to begin with (`<` `>` and `P` change it); headless it runs flat out.
 */
import type { FleetRun } from "../fleet/run.js";
import type { Pace } from "../fleet/virtual-clock.js";
import { SimSource } from "../view/sim-source.js";
import { openConsole } from "./app.js";

/**
 * Opens the console on a run until the run is done. The first `q` stops the presses and the console
 * shows the settle's countdown; a second `q` or Ctrl-C closes it and cuts the run short. Resolves
 * when the console has closed (and the terminal is back) — the run's report is then at most a
 * moment away.
 */
export async function runSimConsole(
  run: FleetRun,
  startPace: Pace = { speed: 1, paused: false },
): Promise<void> {
  const source = new SimSource(run);
  run.virtual?.setPace(startPace);
  const handle = openConsole(source);
  let finished = false;
  const done = run.done.then(
    () => {
      finished = true;
    },
    () => {
      finished = true;
    },
  );
  try {
    await Promise.race([handle.closed, done]);
  } finally {
    handle.close();
    source.close();
    // Nobody watches any more: a paused or paced virtual run finishes flat out.
    run.virtual?.setPace({ speed: "max", paused: false });
    if (!finished) run.cut();
  }
}
