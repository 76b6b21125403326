/**
 * The broker connection flags every tool shares, like mosquitto_pub's: `--username`,
 * `--password` / `--password-file` (or TWINFLEET_USERNAME / TWINFLEET_PASSWORD), `--ca`, `--cert` /
 * `--key` and `--insecure`, and the check of `--broker` itself. Credentials may also sit in the URL
 * (`mqtt://user:pass@host:1883`); the flags win over the environment, which wins over the URL. The
 * resolved connection keeps the URL without credentials, for every message. Also the check of
 * `--prefix`, the fleet's topic prefix, and of whole-number flags, which the same tools share.
 */
import { decimalHint, isWholeDecimal, Prefix } from "../protocol/index.js";
import { shown as quoted, shownPath, withoutUserInfo } from "../protocol/shown.js";
import { cannotRead, FILE_LIMITS, notAFile, readProblem, readUserFile } from "../protocol/user-file.js";
import {
  BROKER_SCHEMES,
  type BrokerLogin,
  type BrokerTls,
  bracketedIpv6,
  splitBrokerUrl,
  urlPartsProblem,
  urlTextProblem,
} from "../twins/index.js";
import { UsageError } from "./errors.js";
import type { ConnectionFlags } from "./login-options.js";
import {
  controlCharacter,
  type FirstLine,
  fileFirstLine,
  MAX_PASSWORD_BYTES,
  passwordProblem,
} from "./password-text.js";

export interface ToolConnection {
  /** The broker URL without credentials. */
  readonly url: string;
  readonly login: BrokerLogin;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Checks a broker URL's scheme, naming the flag: `--broker: expected mqtt://, … got http://x`. */
export function checkBrokerUrl(
  url: string,
  flag = "--broker",
  schemes: readonly string[] = BROKER_SCHEMES,
): string {
  // Without user info even where the URL does not parse, or parses as another scheme (`u:pw@h:1883`).
  const shown = withoutUserInfo(splitBrokerUrl(url).url);
  const expected = schemes.map((s) => `${s}://`);
  const list =
    expected.length > 1 ? `${expected.slice(0, -1).join(", ")} or ${expected.at(-1)}` : expected[0];
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  const text = urlTextProblem(url);
  if (text !== undefined) throw new UsageError(`${flag}: ${text}, got ${quoted(shown)}`);
  const bracketed = parsed ? undefined : bracketedIpv6(url);
  if (bracketed !== undefined)
    throw new UsageError(`${flag}: an IPv6 address goes in brackets, as in ${bracketed}, got ${shown}`);
  if (!parsed || !schemes.includes(parsed.protocol.replace(/:$/, "")) || parsed.hostname === "") {
    throw new UsageError(`${flag}: expected an ${list} URL, got ${shown}`);
  }
  const parts = urlPartsProblem(parsed);
  if (parts !== undefined) throw new UsageError(`${flag}: ${parts}, got ${quoted(shown)}`);
  return url;
}

/** The login from the flags, the environment and the URL; file flags are read here. */
export function resolveConnection(
  flags: ConnectionFlags & { readonly broker: string },
  env: Env,
  warn: (msg: string) => void,
): ToolConnection {
  checkBrokerUrl(flags.broker);
  const fromUrl = splitBrokerUrl(flags.broker);
  const secure = /^(mqtts|wss):/.test(fromUrl.url);
  const tls: { -readonly [K in keyof BrokerTls]: BrokerTls[K] } = {};
  if (flags.ca !== undefined) tls.ca = readFlagFile("--ca", flags.ca);
  if ((flags.cert === undefined) !== (flags.key === undefined)) {
    throw new UsageError("--cert and --key go together: give both, or neither");
  }
  if (flags.cert !== undefined) tls.cert = readFlagFile("--cert", flags.cert);
  if (flags.key !== undefined) tls.key = readFlagFile("--key", flags.key);
  if (flags.insecure === true) tls.insecure = true;
  const tlsFlag = [
    ["--ca", flags.ca],
    ["--cert", flags.cert],
    ["--insecure", flags.insecure],
  ].find(([, v]) => v !== undefined)?.[0];
  if (tlsFlag !== undefined && !secure) {
    throw new UsageError(`${tlsFlag} is for an mqtts:// or wss:// broker; ${fromUrl.url} is not encrypted`);
  }
  if (flags.insecure === true) {
    warn(
      `--insecure: the certificate of ${fromUrl.url} is not verified; anyone between here and the broker can pose as it`,
    );
  }
  return {
    url: fromUrl.url,
    login: { ...resolveLogin(flags, env, fromUrl), ...(Object.keys(tls).length > 0 ? { tls } : {}) },
  };
}

/** The user name and password from the flags, the environment and the URL (`splitBrokerUrl`'s), checked. */
export function resolveLogin(
  flags: Pick<ConnectionFlags, "username" | "password" | "passwordFile">,
  env: Env,
  fromUrl: { readonly username?: string; readonly password?: string },
): { username?: string; password?: string } {
  const username = resolveUsername(flags.username, env, fromUrl.username);
  const password = resolvePassword(flags, env) ?? fromUrl.password;
  checkLogin(username, password);
  return { ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}) };
}

/**
 * MQTT 3.1.1 sends a password only with a user name [MQTT-3.1.2-22]: a broker drops such a CONNECT
 * without a CONNACK, which would read as a broker that does not answer. Refused before connecting.
 */
export function checkLogin(username: string | undefined, password: string | undefined): void {
  if (password !== undefined && username === undefined) {
    throw new UsageError(
      "a password needs a user name (MQTT sends no password without one): give --username, TWINFLEET_USERNAME or mqtt://USER@host",
    );
  }
}

/**
 * `--username`, else TWINFLEET_USERNAME, else the URL's user, checked where it came from: an empty
 * name (`--username ""`) would log in as nobody, and a control character or more than MQTT's 65,535
 * bytes cannot be sent (MQTT 3.1.1 §1.5.3).
 */
export function resolveUsername(
  flag: string | undefined,
  env: Env,
  fromUrl: string | undefined,
): string | undefined {
  const [username, from] =
    flag !== undefined
      ? [flag, "--username"]
      : env.TWINFLEET_USERNAME !== undefined && env.TWINFLEET_USERNAME !== ""
        ? [env.TWINFLEET_USERNAME, "TWINFLEET_USERNAME"]
        : [fromUrl, "the --broker URL's user name"];
  if (username === undefined) return undefined;
  if (username === "") throw new UsageError(`${from}: is empty; give a user name, or leave it out`);
  const bytes = Buffer.byteLength(username, "utf8");
  if (bytes > MAX_PASSWORD_BYTES)
    throw new UsageError(`${from}: is ${bytes} bytes long; MQTT carries at most ${MAX_PASSWORD_BYTES}`);
  const control = controlCharacter(username, { tab: false });
  if (control !== undefined) throw new UsageError(`${from}: holds a control character (${control})`);
  return username;
}

/** `--prefix`, checked as a topic prefix; a usage error naming the flag. */
export function prefixFlag(raw: string): string {
  try {
    return Prefix(raw);
  } catch (e) {
    throw new UsageError(`--prefix: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * A flag of the tools (monitor, the twins commands): a whole number from `min` to `max` in plain
 * decimal, else a usage error `FLAG must be WHAT, not "RAW"`, `what` saying the number and its range.
 */
export function wholeFlagIn(flag: string, raw: string, min: number, max: number, what: string): number {
  const n = Number(raw);
  if (!isWholeDecimal(raw) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`${flag} must be ${what}${decimalHint(raw)}, not ${quoted(raw)}`);
  return n;
}

/** `--password`, else `--password-file`'s first line, else TWINFLEET_PASSWORD (env key `envKey`). */
export function resolvePassword(
  flags: { readonly password?: string; readonly passwordFile?: string },
  env: Env,
  names = { flag: "--password", file: "--password-file", env: "TWINFLEET_PASSWORD" },
): string | undefined {
  if (flags.password !== undefined && flags.passwordFile !== undefined) {
    throw new UsageError(`give ${names.flag} or ${names.file}, not both`);
  }
  if (flags.password !== undefined) return checkedPassword(flags.password, names.flag);
  if (flags.passwordFile !== undefined) {
    const { line, cut } = firstLineOf(names.file, flags.passwordFile);
    const where = `${names.file}: ${shownPath(flags.passwordFile)}`;
    if (cut)
      throw new UsageError(
        `${where}: its first line is longer than ${MAX_PASSWORD_BYTES} bytes, the most an MQTT CONNECT carries`,
      );
    if (line === "") throw new UsageError(`${where} has no password on its first line`);
    return checkedPassword(line, `${where}: the password on its first line`);
  }
  const fromEnv = env[names.env];
  return fromEnv === undefined || fromEnv === "" ? undefined : checkedPassword(fromEnv, names.env);
}

/**
 * The web token a command was given: `--http-token`, else `--http-token-file`'s first line, else
 * TWINFLEET_HTTP_TOKEN; read as a password is (resolvePassword), by the server and its clients alike.
 */
export function resolveHttpToken(
  flags: { readonly httpToken?: string | undefined; readonly httpTokenFile?: string | undefined },
  env: Env,
): string | undefined {
  return resolvePassword(
    { password: flags.httpToken, passwordFile: flags.httpTokenFile } as {
      password?: string;
      passwordFile?: string;
    },
    env,
    { flag: "--http-token", file: "--http-token-file", env: "TWINFLEET_HTTP_TOKEN" },
  );
}

function checkedPassword(password: string, what: string): string {
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new UsageError(`${what} ${problem}`);
  return password;
}

/** A PEM file a TLS flag names. */
function readFlagFile(flag: string, file: string): Buffer {
  return readUserFile(file, { what: flag, maxBytes: FILE_LIMITS.pem, error: (m) => new UsageError(m) });
}

/** The first line of the file `flag` names, read no further than a password needs. */
function firstLineOf(flag: string, file: string): FirstLine {
  const problem = file === "" ? "the path is empty" : notAFile(file);
  if (problem !== undefined) throw new UsageError(cannotRead(file, problem, flag));
  try {
    return fileFirstLine(file);
  } catch (e) {
    throw new UsageError(cannotRead(file, readProblem(e), flag));
  }
}
