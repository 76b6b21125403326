/**
 * What every value-taking flag of every command takes, for cli/test/flag-fuzz.test.ts: a new flag is
 * added here with its kind, and that test fails naming a flag that is not.
 */

/**
 * What each flag takes. `whole`/`number`: a number (a whole one); `in-file`: a file read; `out-file`:
 * a file written; `dir`: a directory made (cannot be made: exit 1, docs/cli.md; only empty is
 * checked); `url` (a broker's), `web-url` (a twins service's web address, `set --via`), `http`, `choice`, `prefix`, `user`, `secret`, `host`, `filter`, `shard`, `ge`,
 * `fleet-file` (a name or a .json file), `proxies` (`--http-trusted-proxy`'s addresses), `bounds`
 * (`--http-client-bounds`), `span` (`12h`, `30d`: cli/span-flag.ts); `free`: any string is a value (a seed, a scenario list
 * checked by name).
 */
export type Kind =
  | "whole"
  | "number"
  | "in-file"
  | "out-file"
  | "dir"
  | "url"
  | "web-url"
  | "http"
  | "choice"
  | "prefix"
  | "user"
  | "secret"
  | "host"
  | "filter"
  | "shard"
  | "ge"
  | "fleet-file"
  | "proxies"
  | "bounds"
  | "span"
  | "free";

const LOGIN: Record<string, Kind> = {
  "--username": "user",
  "--password": "secret",
  "--password-file": "in-file",
};
const TLS: Record<string, Kind> = { "--ca": "in-file", "--cert": "in-file", "--key": "in-file" };
const HTTP: Record<string, Kind> = {
  "--http": "http",
  "--http-token": "secret",
  "--http-token-file": "in-file",
};
/** The flags of a command that serves HTTP itself (not `broker backup`, a client of one). */
const HTTP_SERVED: Record<string, Kind> = {
  ...HTTP,
  "--http-trusted-proxy": "proxies",
  "--http-client-bounds": "bounds",
};
const ONE_SHOT: Record<string, Kind> = {
  "--broker": "url",
  "--prefix": "prefix",
  "--wait": "whole",
  ...LOGIN,
  ...TLS,
};

export const KINDS: Record<string, Record<string, Kind>> = {
  "": { "--log-level": "choice", "--log-format": "choice" },
  sim: {
    "--nodes": "whole",
    "--profile": "fleet-file",
    "--topology": "fleet-file",
    "--group-size": "whole",
    "--follows": "whole",
    "--rate": "number",
    "--loss": "number",
    "--loss-mode": "choice",
    "--ge": "ge",
    "--seed": "free",
    "--duration": "number",
    "--settle": "number",
    "--report": "out-file",
    "--broker": "url",
    "--broker-data": "dir",
    "--twins-data": "dir",
    "--faults": "fleet-file",
    "--workers": "whole",
    "--prefix": "prefix",
    "--id-base": "prefix",
    "--progress-every": "number",
    "--shard": "shard",
    "--shard-report": "out-file",
    "--clock": "choice",
    "--speed": "choice",
    ...LOGIN,
    ...HTTP_SERVED,
    "--node-password": "secret",
    "--node-password-file": "in-file",
  },
  broker: {
    "--host": "host",
    "--port": "whole",
    "--ws-port": "whole",
    "--tls-port": "whole",
    "--tls-key": "in-file",
    "--tls-cert": "in-file",
    "--data": "dir",
    "--will-grace": "whole",
    "--redis": "url",
    "--auth": "in-file",
    "--max-packet-bytes": "whole",
    "--max-queued-bytes": "whole",
    "--drain-timeout": "whole",
    "--connect-timeout": "whole",
    "--connection-rate": "number",
    "--connection-burst": "whole",
    "--max-pending": "whole",
    "--ipv6-prefix": "whole",
    "--login-failures": "whole",
    "--user-login-failures": "whole",
    "--login-window": "whole",
    "--ban-time": "whole",
    "--login-concurrency": "whole",
    "--max-subscriptions": "whole",
    "--max-inflight": "whole",
    "--max-queued-messages": "whole",
    "--max-retained": "whole",
    "--max-retained-bytes": "whole",
    "--max-inbound-bytes": "whole",
    "--publish-rate": "number",
    "--publish-burst": "whole",
    "--publish-bytes-rate": "whole",
    "--max-sessions": "whole",
    "--session-expiry": "whole",
    "--max-client-id-bytes": "whole",
    "--max-filters-per-subscribe": "whole",
    "--deny-subscribe": "filter",
    ...HTTP_SERVED,
  },
  nodes: ONE_SHOT,
  set: {
    ...ONE_SHOT,
    "--via": "web-url",
    "--http-token": "secret",
    "--http-token-file": "in-file",
  },
  pair: ONE_SHOT,
  unpair: ONE_SHOT,
  forget: ONE_SHOT,
  twins: {
    "--broker": "url",
    "--prefix": "prefix",
    ...LOGIN,
    ...TLS,
    ...HTTP_SERVED,
    "--data": "dir",
    "--max-nodes": "whole",
    "--forget-after": "span",
  },
  monitor: {
    "--broker": "url",
    "--prefix": "prefix",
    "--nodes": "whole",
    "--seed": "free",
    "--fps": "whole",
    "--via": "web-url",
    "--via-token-file": "in-file",
    ...LOGIN,
    ...TLS,
    ...HTTP_SERVED,
  },
  sweep: {
    "--scenario": "fleet-file",
    "--out": "dir",
    "--nodes": "whole",
    "--seconds": "whole",
    "--workers": "whole",
    "--clock": "choice",
    "--broker": "url",
    ...LOGIN,
    "--node-password": "secret",
    "--node-password-file": "in-file",
  },
  "report merge": { "--out": "out-file" },
  "broker backup": { ...HTTP, "--out": "dir", "--idle-timeout": "whole" },
};
