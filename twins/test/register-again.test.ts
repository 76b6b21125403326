// A register that tells nothing new — a node online, registered since it came online, with the same
// identity, answering a query — is flagged `again`, so a log can keep it below info.
import { expect, it } from "vitest";
import { Prefix } from "../../protocol/index.js";
import { TwinRegistry } from "../registry.js";

it("tells a register again only of a node online, registered since it came online and unchanged", () => {
  const r = new TwinRegistry(Prefix("tf"));
  const again = (at: number, payload = "G1 sim uno-w5100 1.0.0") =>
    r
      .receive("tf/register/A", payload, 0, at)
      .flatMap((e) => (e.type === "registered" ? [e.again] : []))
      .join();
  expect(again(1)).toBe("false"); // its first register
  expect(again(2)).toBe("true"); // answering a query: nothing new
  expect(again(3, "G1 sim uno-w5100 1.1.0")).toBe("false"); // a changed firmware
  expect(again(4, "G1 sim uno-w5100 1.1.0")).toBe("true");
  r.receive("tf/status/A", "T1 0", 0, 5);
  expect(again(6, "G1 sim uno-w5100 1.1.0")).toBe("false"); // back after going offline
  r.receive("tf/status/A", "T1 0", 0, 7);
  r.receive("tf/status/A", "T1 1", 0, 8);
  expect(again(9, "G1 sim uno-w5100 1.1.0")).toBe("false"); // its first register since its T1 1
  expect(again(10, "G1 sim uno-w5100 1.1.0")).toBe("true");
});
