/**
 * The web server's flags (`--http`, `--http-token`, `--http-token-file`, and the per-address bounds'
 * `--http-trusted-proxy` and `--http-client-bounds`: cli/client-bounds.ts) as declared on `twins`,
 * `sim`, `monitor` and `broker`: what their help needs. Checking them and serving the page is cli/http.ts's.
 */
import type { Command } from "commander";

export interface HttpFlags {
  readonly http?: string;
  readonly httpToken?: string;
  readonly httpTokenFile?: string;
  readonly httpTrustedProxy?: string;
  readonly httpClientBounds?: string;
}

/** What `--http` serves and what its token guards, as the help says it. */
export interface HttpHelp {
  readonly served: string;
  readonly token: string;
}

/** `twins`, `sim` and `monitor`: the web page, with writes. */
const WEB_HELP: HttpHelp = {
  served: "serve the web page, REST API and /metrics here",
  token:
    "the bearer token writes need (and reads beyond loopback); default: a random one, written in the web: line only when stderr is a terminal",
};

export function addHttpOptions(cmd: Command, help: HttpHelp = WEB_HELP): Command {
  return cmd
    .option("--http <[host:]port>", `${help.served} (default host 127.0.0.1; port 0: any)`)
    .option("--http-token <token>", help.token)
    .option("--http-token-file <file>", "read the bearer token from the first line of <file>")
    .option(
      "--http-trusted-proxy <addr,...>",
      "reverse proxies (addresses or networks, e.g. 192.0.2.10,198.51.100.0/24; none wider than a /8 of IPv4 or a /32 of IPv6) whose clients are each bounded by the address their X-Forwarded-For names, not as one",
    )
    .option(
      "--http-client-bounds <bounds>",
      "what one client address may take: conns=N,api=RATE/BURST,files=RATE/BURST (any of them; default conns=32,api=20/100,files=40/400), or off",
    );
}
