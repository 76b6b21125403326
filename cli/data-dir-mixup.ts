/**
 * One service's --data given to the other: `twinfleet twins --data` on a broker's LevelDB directory,
 * or `twinfleet broker --data` on a twins service's. Each kept its own files beside the other's and
 * said nothing, so the mix-up — a swapped pair of flags in two units — showed only later, as a twins
 * service without its stored pairings or a broker without its sessions and retained messages. Now
 * each says so once as it starts, and runs on (the two stores do not touch each other's files).
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** The files a LevelDB store (`twinfleet broker --data`) always has. */
function levelDbFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const manifest = names.find((n) => n.startsWith("MANIFEST-"));
  return names.includes("CURRENT") && manifest !== undefined ? ["CURRENT", manifest] : [];
}

/** For `twinfleet twins --data DIR`: a warning when DIR holds a broker's store; undefined otherwise. */
export function brokerStoreIn(dir: string): string | undefined {
  const files = levelDbFiles(dir);
  if (files.length === 0) return undefined;
  const none = !existsSync(join(dir, "twins.json"));
  return `--data ${dir} holds a broker's store (LevelDB: ${files.join(", ")})${none ? " and no twins.json" : ""}: is it the broker's --data? The twins service keeps its twins.json beside it${none ? ", starting with no stored desire" : ""}; give each service a directory of its own`;
}

/** For `twinfleet broker --data DIR`: a warning when DIR holds a twins service's store; undefined otherwise. */
export function twinsStoreIn(dir: string): string | undefined {
  const files = ["twins.json", "twins.lock"].filter((f) => existsSync(join(dir, f)));
  if (files.length === 0) return undefined;
  const none = levelDbFiles(dir).length === 0;
  return `--data ${dir} holds a twins service's store (${files.join(", ")})${none ? " and no broker store" : ""}: is it the twins service's --data? The broker keeps its LevelDB store beside it${none ? ", starting empty (no sessions, no retained messages)" : ""}; give each service a directory of its own`;
}
