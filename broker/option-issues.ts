/**
 * How the broker's option errors read: one message per bad field or flag, each naming it
 * (`--port must be a port number 0-65535, got "0x10"`, `options.maxPacketBytes must be …`).
 */
import type { z } from "zod";
import { decimalHint } from "../protocol/index.js";
import { shown, withoutUserInfo } from "../protocol/shown.js";

export function toFlag(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function describeIssues(
  error: z.ZodError,
  prefix: string,
  name: (key: string) => string = (k) => k,
  given: Readonly<Record<string, unknown>> = {},
): string {
  return error.issues
    .map((issue) => {
      // A list's index is left out: the message names the bad value itself.
      const path = issue.path
        .filter((p) => typeof p !== "number")
        .map((p) => name(String(p)))
        .join(".");
      const message =
        issue.code === "unrecognized_keys" ? `has unknown keys ${issue.keys.join(", ")}` : issue.message;
      // A flag's string as typed: `--port must be a port number 0-65535, got "0x10"`.
      const value = issue.path.length === 1 ? given[String(issue.path[0])] : undefined;
      // A URL's password is not repeated back (`--redis redis://:pw@h/x`).
      const raw =
        typeof value === "string" && /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)
          ? withoutUserInfo(value)
          : value;
      const got = typeof raw === "string" ? `${decimalHint(raw)}, got ${shown(raw)}` : "";
      return `${prefix}${path === "" ? "(root)" : path} ${message}${got}`;
    })
    .join("; ");
}
