/**
 * The thread of one part of a split virtual-time run (fleet/virtual-split.ts): runs the part
 * (fleet/virtual-part.ts) from its task, passing messages to and from the coordinator.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type CoordinatorMessage, type PartTask, VirtualPart } from "./virtual-part.js";

const port = parentPort;
if (port) {
  const part = new VirtualPart(workerData as PartTask, (m) => port.postMessage(m));
  port.on("message", (m: CoordinatorMessage) => part.receive(m));
  part
    .run()
    .catch((e: unknown) =>
      port.postMessage({ type: "error", message: e instanceof Error ? e.message : String(e) }),
    )
    .finally(() => port.close());
}
