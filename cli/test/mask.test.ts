/**
 * Secrets masked in what the CLI prints (cli/mask.ts): passwords, and short ones only inside URLs.
 */
import { describe, expect, it } from "vitest";
import { maskSecrets } from "../mask.js";

describe("masking secrets", () => {
  it("masks a password of 4 characters or more wherever it occurs", () => {
    expect(maskSecrets("pw hunter2 in mqtt://u:hunter2@h, again hunter2", ["hunter2"])).toBe(
      "pw *** in mqtt://u:***@h, again ***",
    );
  });

  it("masks a shorter one only as a URL's password, leaving addresses and figures readable", () => {
    expect(maskSecrets("mqtt://u:0@127.0.0.1:1883: 10 nodes, 0 lost", ["0"])).toBe(
      "mqtt://u:***@127.0.0.1:1883: 10 nodes, 0 lost",
    );
  });
});
