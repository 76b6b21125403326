/**
 * The default cap on connections follows the process's limit of open files: half of it when that is
 * below 512, so connections held open (slowloris, sockets never read) cannot take the file
 * descriptors the service needs for its broker connection and its saves. `ulimit -n 200` used to
 * leave the cap at 256, above what the process could open.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { defaultMaxConnections, MAX_CONNECTIONS } from "../connection-limits.js";

const limits = (soft: string, hard = soft) =>
  `Limit                     Soft Limit           Hard Limit           Units     \n` +
  `Max processes             63499                63499                processes \n` +
  `Max open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files     \n`;

describe("the default cap on connections", () => {
  it("is half the soft limit of open files when that is below twice 256", () => {
    expect(defaultMaxConnections(limits("200", "4096"))).toBe(100);
    expect(defaultMaxConnections(limits("511"))).toBe(255);
    expect(defaultMaxConnections(limits("1024", "524288"))).toBe(MAX_CONNECTIONS);
    expect(defaultMaxConnections(limits("unlimited"))).toBe(MAX_CONNECTIONS);
    expect(defaultMaxConnections(limits("1"))).toBe(1);
    // Not Linux (no /proc/self/limits): 256.
    expect(defaultMaxConnections(undefined)).toBe(MAX_CONNECTIONS);
  });

  it("reads this process's own limit", () => {
    // A child under `ulimit -n 150` reads its own limit: 75.
    const script = `import("${new URL("../connection-limits.ts", import.meta.url).pathname}").then((m) => console.log(m.defaultMaxConnections()))`;
    const r = spawnSync(
      "sh",
      ["-c", `ulimit -n 150 && exec "$0" --import tsx -e '${script}'`, process.execPath],
      {
        encoding: "utf8",
      },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(process.platform === "linux" ? "75" : String(MAX_CONNECTIONS));
  });
});
