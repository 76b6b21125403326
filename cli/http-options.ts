/**
 * The web server's flags (`--http`, `--http-token`, `--http-token-file`) as declared on `twins`,
 * `sim` and `monitor`: what their help needs. Checking them and serving the page is cli/http.ts's.
 */
import type { Command } from "commander";

export interface HttpFlags {
  readonly http?: string;
  readonly httpToken?: string;
  readonly httpTokenFile?: string;
}

export function addHttpOptions(cmd: Command): Command {
  return cmd
    .option(
      "--http <[host:]port>",
      "serve the web page, REST API and /metrics here (default host 127.0.0.1; port 0: any)",
    )
    .option(
      "--http-token <token>",
      "the bearer token writes need (and reads beyond loopback); default: a random one",
    )
    .option("--http-token-file <file>", "read the bearer token from the first line of <file>");
}
