#!/usr/bin/env node
// `npm test`: the type check and the lint run beside the test files instead of before them (many
// test files wait on sockets, child processes and timers, leaving a core idle), their output held and
// shown once the tests end. Exits 0 only when all three pass; arguments go to Vitest.
import { spawn } from "node:child_process";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** Runs `npm run -s <script>` with its output held: resolves to its exit code, output and time. */
function held(script) {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(npm, ["run", "-s", script], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", (e) => resolve({ script, code: 1, output: `cannot run npm: ${e.message}\n`, s: 0 }));
    child.on("close", (code, signal) =>
      resolve({ script, code: code ?? 1, signal, output, s: (performance.now() - started) / 1000 }),
    );
  });
}

function vitest(args) {
  return new Promise((resolve) => {
    const child = spawn(npm, ["run", "-s", "test:unit", "--", ...args], { stdio: "inherit" });
    child.on("error", () => resolve(1));
    child.on("close", (code) => resolve(code ?? 1));
  });
}

const checks = Promise.all(["typecheck", "lint"].map(held));
const tests = await vitest(process.argv.slice(2));
let failed = tests !== 0;
for (const c of await checks) {
  const how = c.code === 0 ? "ok" : c.signal ? `killed by ${c.signal}` : `failed (exit ${c.code})`;
  process.stdout.write(`\n${c.script}: ${how} in ${c.s.toFixed(1)} s\n`);
  if (c.code !== 0) {
    failed = true;
    process.stdout.write(c.output);
  }
}
process.exitCode = failed ? 1 : 0;
