/** `twinfleet ...argv` in this process (cli/main.ts), with what it wrote to stdout and stderr. */
import { main } from "../main.js";

export async function runMain(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}
