/**
 * The logins of a fleet run on someone else's broker (`sim --broker`, `sweep --broker`; docs/cli.md,
 * "sim --broker on a broker with credentials"): the run's twins service and tools log in as a control
 * user, every simulated node as itself with the nodes' password. Login flags without `--broker` are
 * refused: the run's own broker has no credentials.
 */
import { type BrokerLogin, splitBrokerUrl } from "../twins/index.js";
import { type Env, resolveLogin, resolvePassword } from "./connection.js";
import { UsageError } from "./errors.js";

export interface FleetLoginFlags {
  readonly broker?: string;
  readonly username?: string;
  readonly password?: string;
  readonly passwordFile?: string;
  readonly nodePassword?: string;
  readonly nodePasswordFile?: string;
}

/** A fleet run's logins (sim, sweep): the twins service and tools (control role), and the nodes (node role). */
export function fleetLogin(
  raw: FleetLoginFlags,
  env: Env,
): { url?: string; login: BrokerLogin; nodePassword?: string } {
  const nodePassword = resolvePassword(
    { password: raw.nodePassword, passwordFile: raw.nodePasswordFile },
    env,
    {
      flag: "--node-password",
      file: "--node-password-file",
      env: "TWINFLEET_NODE_PASSWORD",
    },
  );
  if (raw.broker === undefined) {
    const given = [
      ["--username", raw.username],
      ["--password", raw.password],
      ["--password-file", raw.passwordFile],
      ["--node-password", raw.nodePassword],
      ["--node-password-file", raw.nodePasswordFile],
    ].find(([, v]) => v !== undefined)?.[0];
    if (given !== undefined) {
      throw new UsageError(`${given} is for a --broker with credentials; the run's own broker has none`);
    }
    return { login: {} };
  }
  const fromUrl = splitBrokerUrl(raw.broker);
  return {
    url: fromUrl.url,
    login: resolveLogin(raw, env, fromUrl),
    ...(nodePassword !== undefined ? { nodePassword } : {}),
  };
}
