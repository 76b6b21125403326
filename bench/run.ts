/**
 * Benchmark entry: `npm run bench -- <name> [flags]`. Figures go to stdout (one JSON line) and to
 * bench/results/. Run them on a quiet machine: the fleet shares the host's cores with the broker.
 */
import { brokerDelay } from "./broker-delay.js";
import { calibrate } from "./calibrate.js";
import { consoleLag } from "./console-lag.js";
import { faults } from "./faults.js";
import { fidelity } from "./fidelity.js";
import { fleet, scale } from "./fleet.js";
import { fuzz } from "./fuzz.js";
import { hostShare } from "./host-share.js";
import { loginFlood } from "./login-flood.js";
import { overhead } from "./overhead.js";
import { shards } from "./shards.js";
import { sweepClocks } from "./sweep-clocks.js";
import { web } from "./web.js";
import { webPage } from "./web-page.js";

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
  web,
  "broker-delay": brokerDelay,
  calibrate,
  "sweep-clocks": sweepClocks,
  shards,
};

const [name, ...rest] = process.argv.slice(2);
const bench = name === undefined ? undefined : BENCHES[name];
if (!bench) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join("|")}> [flags]`);
  process.exitCode = 2;
} else {
  await bench(rest);
}
