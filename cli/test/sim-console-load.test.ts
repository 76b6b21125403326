// `twinfleet sim` with the console loads the console's code (blessed and its widgets) before the run
// starts. Loaded once the run was under way, it held the main thread — where the run's broker and
// twins service work — for 0.2-0.4 s, and the run's largest lag was 300-840 ms instead of 80-300.
import { afterEach, expect, it, vi } from "vitest";

const order = vi.hoisted(() => [] as string[]);

vi.mock("../../console/sim-console.js", () => {
  order.push("console loaded");
  return { runSimConsole: async () => undefined };
});

const { main } = await import("../main.js");
const { FleetRun } = await import("../../fleet/run.js");
vi.spyOn(FleetRun, "start").mockImplementation(() => {
  order.push("run started");
  throw new Error("not started in this test");
});

// The console opens where stdout and stdin are terminals and TERM can move the cursor.
const wasTTY = [process.stdout.isTTY, process.stdin.isTTY];
const wasTerm = process.env.TERM;
afterEach(() => {
  [process.stdout.isTTY, process.stdin.isTTY] = wasTTY as [boolean, boolean];
  if (wasTerm === undefined) delete process.env.TERM;
  else process.env.TERM = wasTerm;
  order.length = 0;
});

it("loads the console before the run starts", async () => {
  process.stdout.isTTY = true;
  process.stdin.isTTY = true;
  process.env.TERM = "xterm-256color";
  const err: string[] = [];
  const code = await main(["sim", "--nodes", "4", "--duration", "2"], {
    stdout: () => undefined,
    stderr: (s) => err.push(s),
  });
  expect(err.join("")).toContain("not started in this test");
  expect(code).toBe(1);
  expect(order).toEqual(["console loaded", "run started"]);
});

it("does not load it for a headless run", async () => {
  process.stdout.isTTY = true;
  await main(["sim", "--nodes", "4", "--duration", "2", "--headless"], {
    stdout: () => undefined,
    stderr: () => undefined,
  });
  expect(order).toEqual(["run started"]);
});
