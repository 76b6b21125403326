/**
 * Benchmark entry: `npm run bench -- <name> [flags]`. Figures go to stdout (one JSON line) and to
 * bench/results/. Run them on a quiet machine: the fleet shares the host's cores with the broker.
 */
import { readFileSync } from "node:fs";
import { EXIT_USAGE } from "../cli/errors.js";
import { OptionError } from "../protocol/option-error.js";
import { brokerDelay } from "./broker-delay.js";
import { brokerFlood } from "./broker-flood.js";
import { calibrate } from "./calibrate.js";
import { consoleLag } from "./console-lag.js";
import { faults } from "./faults.js";
import { fidelity } from "./fidelity.js";
import { fleet, scale } from "./fleet.js";
import { fuzz } from "./fuzz.js";
import { hostShare } from "./host-share.js";
import { loginFlood } from "./login-flood.js";
import { overhead } from "./overhead.js";
import { stopping } from "./scratch.js";
import { shards } from "./shards.js";
import { sweepClocks } from "./sweep-clocks.js";
import { web } from "./web.js";
import { webPage } from "./web-page.js";
import { webWatchers } from "./web-watchers.js";

const BENCHES: Record<string, (argv: string[]) => Promise<void>> = {
  fleet,
  scale,
  overhead,
  fidelity,
  "host-share": hostShare,
  "console-lag": consoleLag,
  faults,
  "login-flood": loginFlood,
  fuzz,
  "web-page": webPage,
  "web-watchers": webWatchers,
  web,
  "broker-delay": brokerDelay,
  "broker-flood": brokerFlood,
  calibrate,
  "sweep-clocks": sweepClocks,
  shards,
};

/** The module whose header comment documents a benchmark's flags, where it is not the name's own. */
const MODULE: Record<string, string> = { scale: "fleet" };

/** A benchmark's header comment (its flags), for `--help`: a benchmark never runs to show it. */
function usage(name: string): string {
  const file = new URL(`./${MODULE[name] ?? name}.ts`, import.meta.url);
  const header = /^\/\*\*([\s\S]*?)\*\//.exec(readFileSync(file, "utf8"))?.[1] ?? "";
  return header
    .split("\n")
    .map((l) => l.replace(/^ \* ?/, ""))
    .join("\n")
    .trim();
}

const [name, ...rest] = process.argv.slice(2);
const bench = name === undefined ? undefined : BENCHES[name];
const list = `usage: npm run bench -- <${Object.keys(BENCHES).join("|")}> [flags]\n       npm run bench -- <name> --help   (its flags)`;
if (name === "--help" || name === "-h") {
  console.log(list);
} else if (name === undefined || !bench) {
  console.error(name === undefined ? list : `npm run bench: no benchmark "${name}"\n${list}`);
  process.exitCode = EXIT_USAGE;
} else if (rest.includes("--help") || rest.includes("-h")) {
  console.log(`npm run bench -- ${name} [flags]\n\n${usage(name)}`);
} else {
  try {
    await bench(rest);
  } catch (e) {
    // Stopped by a signal: what failed because of it waits for the stop, which exits (bench/scratch.ts).
    await stopping();
    // A bad flag: say which, as the CLI does, not with a stack trace.
    if (!(e instanceof OptionError)) throw e;
    console.error(`npm run bench -- ${name}: ${e.message}`);
    process.exitCode = EXIT_USAGE;
  }
}
