/**
 * The broker login flags every tool shares (`--username`, `--password`, `--password-file`, and the
 * TLS ones), as declared on a command: what `twinfleet <cmd> --help` needs. Resolving them into a
 * connection is cli/connection.ts's.
 */
import type { Command } from "commander";

export interface ConnectionFlags {
  readonly broker?: string;
  readonly username?: string;
  readonly password?: string;
  readonly passwordFile?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly insecure?: boolean;
}

/** Adds the login flags; `tls: false` for a tool whose broker must be plain mqtt:// (sim). */
export function addLoginOptions(cmd: Command, opts: { readonly tls?: boolean } = {}): Command {
  cmd
    .option("--username <name>", "broker user name (also TWINFLEET_USERNAME or mqtt://user@host)")
    .option("--password <password>", "broker password (prefer --password-file or TWINFLEET_PASSWORD)")
    .option("--password-file <file>", "read the broker password from the first line of <file>");
  if (opts.tls === false) return cmd;
  return cmd
    .option("--ca <file>", "trust this CA certificate (PEM) for an mqtts:// or wss:// broker")
    .option("--cert <file>", "client certificate (PEM), with --key")
    .option("--key <file>", "client certificate's private key (PEM), with --cert")
    .option("--insecure", "do not verify the broker's TLS certificate (testing only)");
}

/** The nodes' login of a simulated fleet on someone else's broker (sim, sweep): each node as its id. */
export function addNodeLoginOptions(cmd: Command): Command {
  return cmd
    .option(
      "--node-password <password>",
      "with --broker: each node logs in as its node id with this password",
    )
    .option("--node-password-file <file>", "read the nodes' password from the first line of <file>");
}
