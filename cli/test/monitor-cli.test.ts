// `twinfleet monitor`: its help, and flag errors that name the flag (the console itself is tested in
// console/test, the real terminal in console/test/e2e-tmux.test.ts).
import { describe, expect, it } from "vitest";
// What the command runs, loaded with this file rather than by its first test: the command loads it
// when it runs (the console, the twins service, the web page: 2.5 s here on an idle host, over the
// 30 s a test may take at load average 15), and no flag error below depends on how long that takes.
import "../commands/monitor-run.js";
import { main } from "../main.js";

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (s) => out.push(s), stderr: (s) => err.push(s) });
  return { code, out: out.join(""), err: err.join("") };
}

describe("twinfleet monitor", () => {
  it("shows examples for a live fleet and the demo", async () => {
    const r = await run(["monitor", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("twinfleet monitor --broker mqtt://localhost:1883");
    expect(r.out).toContain("twinfleet monitor --demo");
  });

  it("wants exactly one of --broker and --demo", async () => {
    for (const argv of [["monitor"], ["monitor", "--demo", "--broker", "mqtt://localhost:1"]]) {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.err).toContain("give either --broker <url> or --demo");
    }
  });

  it("refuses to draw the console where there is no terminal (here: a test's stdout), unless --http serves the page", async () => {
    const r = await run(["monitor", "--demo", "--nodes", "4"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("the console needs a terminal, and stdout is not one");
    expect(r.err).toContain("--http");
  });

  it("refuses the login flags with --demo, which has no broker to log in to", async () => {
    for (const [flag, ...value] of [["--ca", "ca.pem"], ["--username", "u"], ["--insecure"]]) {
      const r = await run(["monitor", "--demo", "--http", "0", flag as string, ...value]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`${flag} is for --broker; the demo fleet has no broker`);
    }
  });

  it("refuses the demo's flags with --broker, and --prefix with --demo, which has no topics", async () => {
    // `--broker … --nodes 50` was taken without a word and watched every node the broker holds.
    for (const [flag, value, what] of [
      ["--nodes", "50", "size"],
      ["--seed", "s", "seed"],
    ] as const) {
      const r = await run(["monitor", "--broker", "mqtt://127.0.0.1:1", "--http", "0", flag, value]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(
        `${flag} is for --demo (the demo fleet's ${what}); a live fleet's nodes are the ones its broker holds`,
      );
    }
    const r = await run(["monitor", "--demo", "--http", "0", "--prefix", "lab"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--prefix is for --broker; the demo fleet has no topics");
  });

  it("takes --via for a live fleet's twins service only, with its token file, and names a bad address", async () => {
    const demo = await run(["monitor", "--demo", "--http", "0", "--via", "http://127.0.0.1:30602"]);
    expect(demo.code).toBe(2);
    expect(demo.err).toContain("--via is for --broker: the demo fleet has no twins service to ask");
    // Only the twins service's address: why the broker is needed, and where that service's own view is.
    const only = await run(["monitor", "--via", "http://127.0.0.1:30602", "--via-token-file", "tok"]);
    expect(only.code).toBe(2);
    expect(only.err).toContain(
      "--via gives the console only its last 48 h (key m): the fleet it shows comes from the broker, through the monitor's own connection, and a twins service's address does not say which broker that is: give --broker mqtt://HOST:PORT too (the broker that service uses), or open http://127.0.0.1:30602/ in a browser",
    );
    const alone = await run(["monitor", "--broker", "mqtt://127.0.0.1:1", "--via-token-file", "tok"]);
    expect(alone.code).toBe(2);
    expect(alone.err).toContain("--via-token-file is the token of --via's twins service: give --via too");
    const bad = await run(["monitor", "--broker", "mqtt://127.0.0.1:1", "--via", "127.0.0.1:30602"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(
      '--via: expected the twins service\'s web address, http://host:port, got "127.0.0.1:30602"',
    );
    const missing = await run([
      ...["monitor", "--broker", "mqtt://127.0.0.1:1", "--via", "http://127.0.0.1:30602"],
      ...["--via-token-file", "/nonexistent/tok"],
    ]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("--via-token-file");
  });

  it("names the bad flag", async () => {
    expect((await run(["monitor", "--demo", "--fps", "0"])).err).toBe(
      'twinfleet monitor: --fps must be a whole number from 1 to 30, not "0"\n(run twinfleet monitor --help for usage)\n',
    );
    for (const bad of ["0x10", " 8", "1e1", "08"]) {
      const r = await run(["monitor", "--demo", "--fps", bad]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`--fps must be a whole number from 1 to 30 (plain decimal digits only`);
      expect(r.err).toContain(`not ${JSON.stringify(bad)}`);
    }
    expect((await run(["monitor", "--demo", "--nodes", "many"])).err).toContain(
      '--nodes must be a whole number from 1 to 100000, not "many"',
    );
    expect((await run(["monitor", "--broker", "mqtt://127.0.0.1:1", "--prefix", ""])).err).toContain(
      '--prefix: topic prefix "" must be 1-12 characters',
    );
  });
});
