/**
 * The web servers' per-address bounds as the site sets them (docs/web.md, "One client's share"):
 * `--http-trusted-proxy ADDR[,ADDR…]`, the reverse proxies whose clients are each bounded by the
 * address the proxy names (web/client-address.ts), and `--http-client-bounds conns=N,api=R/B,files=R/B`
 * or `off`, to widen, narrow or lift them. Parsed and checked here, every fault a usage error naming
 * the flag and the part at fault. A trusted network wider than a /8 of IPv4 or a /32 of IPv6
 * (`0.0.0.0/0`, `::/0`) is refused: any client in it could name itself and leave its bound, which is
 * `--http-client-bounds off` told as something else.
 */
import { BlockList, isIP } from "node:net";
import { decimalHint, isDecimal, isWholeDecimal } from "../protocol/index.js";
import { shown, shownPath } from "../protocol/shown.js";
import { type AddressBounds, type ProxySpec, TrustedProxies } from "../web/index.js";
import { UsageError } from "./errors.js";

export interface ClientBoundFlags {
  readonly httpTrustedProxy?: string;
  readonly httpClientBounds?: string;
}

/** Counts larger than this are no bound a server can keep (and a typo more than a choice). */
const MOST = 1_000_000;

/** The bounds the flags set, or undefined when neither is given (the defaults, web/address-bounds.ts). */
export function clientBounds(flags: ClientBoundFlags): AddressBounds | undefined {
  const proxies =
    flags.httpTrustedProxy === undefined ? undefined : parseTrustedProxies(flags.httpTrustedProxy);
  const bounds = flags.httpClientBounds === undefined ? undefined : parseClientBounds(flags.httpClientBounds);
  if (proxies === undefined && bounds === undefined) return undefined;
  return { ...bounds, ...(proxies ? { trustedProxies: new TrustedProxies(proxies) } : {}) };
}

/** `192.0.2.10,2001:db8::7,198.51.100.0/24` → the proxies (addresses, or networks with a prefix). */
export function parseTrustedProxies(text: string): ProxySpec[] {
  const flag = "--http-trusted-proxy";
  const parts = text.split(",").map((s) => s.trim());
  if (parts.some((p) => p === ""))
    throw new UsageError(
      `${flag}: ${shown(text)} has an empty entry; give addresses or networks separated by commas (e.g. 192.0.2.10,198.51.100.0/24)`,
    );
  return parts.map((part) => {
    const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(part);
    const address = m?.[1] ?? "";
    const family = isIP(address);
    if (family === 0)
      throw new UsageError(
        `${flag}: ${shown(part)} is not an IP address or network (e.g. 192.0.2.10, 2001:db8::7, 198.51.100.0/24); names are not looked up`,
      );
    if (m?.[2] === undefined) return { address };
    const prefix = Number(m[2]);
    const most = family === 6 ? 128 : 32;
    if (!isWholeDecimal(m[2]) || prefix > most)
      throw new UsageError(`${flag}: ${shown(part)}: the prefix length must be 0 to ${most}`);
    const wide = tooWide(address, prefix);
    if (wide !== undefined)
      throw new UsageError(
        `${flag}: ${shown(part)} ${wide}: a client anywhere in it could name itself whatever address it likes in X-Forwarded-For and leave its bound; list the proxies' own addresses or network, or, to bound no client at all, give --http-client-bounds off`,
      );
    return { address, prefix };
  });
}

/**
 * The widest networks trusted as proxies: IPv4's largest private range (10.0.0.0/8), and IPv6's
 * largest block one network is given (an ISP's /32; a site's is a /48 or /56).
 */
const WIDEST_V4 = 8;
const WIDEST_V6 = 32;

/**
 * How `address/prefix` is too wide (`is wider than a /8 of IPv4`), or undefined. An IPv6 network that takes in
 * IPv4 mapped into IPv6 (`::ffff:0.0.0.0/96`, `::/80`) is held to IPv4's widest: a socket's IPv4
 * address is matched against it (web/client-address.ts).
 */
function tooWide(address: string, prefix: number): string | undefined {
  const v4 = `is wider than a /${WIDEST_V4} of IPv4`;
  if (isIP(address) === 4) return prefix < WIDEST_V4 ? v4 : undefined;
  const net = new BlockList();
  net.addSubnet(address, prefix, "ipv6");
  if (prefix <= 96 && net.check("::ffff:0.0.0.0", "ipv6"))
    return "takes in every IPv4 address (::ffff:0.0.0.0/96)";
  if (prefix > 96 && MAPPED.check(address, "ipv6")) return prefix - 96 < WIDEST_V4 ? v4 : undefined;
  return prefix < WIDEST_V6 ? `is wider than a /${WIDEST_V6} of IPv6` : undefined;
}

/** IPv4 mapped into IPv6. */
const MAPPED = new BlockList();
MAPPED.addSubnet("::ffff:0.0.0.0", 96, "ipv6");

/** `conns=64,api=40/200,files=80/800` (any of them; the rest stay as they are) or `off`. */
export function parseClientBounds(text: string): AddressBounds {
  const flag = "--http-client-bounds";
  if (text === "off") return { off: true };
  const example = "e.g. conns=64,api=40/200,files=80/800, or off";
  const out: { -readonly [K in keyof AddressBounds]: AddressBounds[K] } = {};
  const seen = new Set<string>();
  for (const part of text.split(",")) {
    const m = /^\s*([a-z]+)=(.*?)\s*$/.exec(part);
    const key = m?.[1] ?? "";
    const value = m?.[2] ?? "";
    if (!m || !["conns", "api", "files"].includes(key))
      throw new UsageError(
        `${flag}: ${shown(part)} is not conns=N, api=RATE/BURST or files=RATE/BURST (${example})`,
      );
    if (seen.has(key)) throw new UsageError(`${flag}: ${key} is given more than once`);
    seen.add(key);
    if (key === "conns") {
      out.connections = whole(value, `${key}=`, flag);
      continue;
    }
    const [rate = "", burst, more] = value.split("/");
    if (burst === undefined || more !== undefined)
      throw new UsageError(
        `${flag}: ${key}=${shownPath(value)} is not RATE/BURST (requests a second/at once: ${key}=40/200)`,
      );
    if (!isDecimal(rate) || !(Number(rate) > 0) || Number(rate) > MOST)
      throw new UsageError(
        `${flag}: ${key}=${shownPath(value)}: the rate must be a number of requests a second above 0, at most ${MOST}${decimalHint(rate)}`,
      );
    const b = whole(burst, `${key}=${rate}/`, flag);
    if (key === "api") {
      out.perSecond = Number(rate);
      out.burst = b;
    } else {
      out.pagePerSecond = Number(rate);
      out.pageBurst = b;
    }
  }
  return out;
}

/** A whole count from 1 to MOST, or a usage error naming the flag and where it stands. */
function whole(value: string, where: string, flag: string): number {
  const n = Number(value);
  if (!isWholeDecimal(value) || n < 1 || n > MOST)
    throw new UsageError(
      `${flag}: ${where}${shownPath(value)}: must be a whole number from 1 to ${MOST}${decimalHint(value)}`,
    );
  return n;
}
