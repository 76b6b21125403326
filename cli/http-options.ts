/**
 * The web server's flags (`--http`, `--http-token`, `--http-token-file`) as declared on `twins`,
 * `sim`, `monitor` and `broker`: what their help needs. Checking them and serving the page is cli/http.ts's.
 */
import type { Command } from "commander";

export interface HttpFlags {
  readonly http?: string;
  readonly httpToken?: string;
  readonly httpTokenFile?: string;
}

/** What `--http` serves on `twins`, `sim` and `monitor`. */
const WEB_SERVED = "serve the web page, REST API and /metrics here";

/** `served`: what `--http` serves, for its help (`broker` serves /metrics and /healthz only). */
export function addHttpOptions(cmd: Command, served = WEB_SERVED): Command {
  return cmd
    .option("--http <[host:]port>", `${served} (default host 127.0.0.1; port 0: any)`)
    .option(
      "--http-token <token>",
      "the bearer token writes need (and reads beyond loopback); default: a random one",
    )
    .option("--http-token-file <file>", "read the bearer token from the first line of <file>");
}
