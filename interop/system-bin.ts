/**
 * Where a Debian package's server binary is: on PATH, or in /usr/sbin and /usr/local/sbin, which are
 * not on every user's PATH. A missing one is named with the package that provides it.
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export function findSystemBinary(
  name: string,
  debianPackage: string,
  dirs: readonly string[] = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin"],
): string {
  for (const dir of dirs) {
    if (dir === "") continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  throw new Error(`${name} not found on PATH or in /usr/sbin: install the Debian package ${debianPackage}`);
}
