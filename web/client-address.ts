/**
 * Who a request is from, for its address's bounds (web/address-bounds.ts): the address it came from,
 * or, from a reverse proxy the site trusts (`--http-trusted-proxy`), the client that proxy names in
 * `X-Forwarded-For` (else `Forwarded`, RFC 7239): the right-most entry that is not itself a trusted
 * proxy, as nginx's realip module takes it (`real_ip_recursive on`). A proxy on another host is one
 * address for every client it serves: 15 operators behind nginx on 192.0.2.2, 10 page loads each,
 * had 2,873 of their 3,450 requests refused 429 as one client (docs/web.md).
 *
 * Only a trusted proxy's header is read: anyone else's names no one, so a client cannot leave its
 * bound by writing the header itself. A trusted proxy's header that names no address where the
 * client should be (`unknown`, `_hidden`, a port alone, garbage) leaves the request the proxy's own,
 * bounded as its address, and says what was wrong (a WARN line): the header is the proxy's, its
 * fault the site's to mend, and no client can choose where it is counted by sending one.
 */
import { BlockList, isIP } from "node:net";

/** One trusted proxy: an address, or a network (`prefix` bits of it). */
export interface ProxySpec {
  readonly address: string;
  readonly prefix?: number;
}

/** The addresses whose forwarding headers are believed. */
export class TrustedProxies {
  private readonly list = new BlockList();

  constructor(readonly specs: readonly ProxySpec[]) {
    for (const s of specs) {
      const type = isIP(s.address) === 6 ? "ipv6" : "ipv4";
      if (s.prefix === undefined) this.list.addAddress(s.address, type);
      else this.list.addSubnet(s.address, s.prefix, type);
    }
  }

  /** Whether `address` (as a socket gives it, IPv4 mapped into IPv6 included) is a trusted proxy. */
  has(address: string): boolean {
    const a = plainAddress(address);
    const family = isIP(a);
    return family !== 0 && this.list.check(a, family === 6 ? "ipv6" : "ipv4");
  }
}

/**
 * An address as one spelling: IPv4 mapped into IPv6 as IPv4, IPv6 as the URL parser writes it,
 * without a zone (`fe80::1%eth0`, which a link-local client's socket gives and the URL parser
 * throws on: that threw out of the server's request listener).
 */
export function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (isIP(address) !== 6) return address;
  const unzoned = address.replace(/%.*$/, "");
  try {
    return new URL(`http://[${unzoned}]/`).hostname.slice(1, -1);
  } catch {
    return unzoned;
  }
}

/**
 * The block an address is bounded as (web/address-bounds.ts): an IPv4 address (mapped into IPv6 or
 * not) on its own; an IPv6 address as its /64 (`2001:db8::/64`), the smallest network a site or an
 * ISP gives one subscriber, and one host picks any address in it (privacy addresses, RFC 8981;
 * `ip addr add` of as many as it likes), so a bound per address was a fresh burst per address it
 * chose. A link-local one (fe80::/10) on its own: every link's hosts share fe80::/64.
 */
export function boundBlock(address: string): string {
  const a = plainAddress(address);
  if (isIP(a) !== 6 || /^fe[89ab]/i.test(a)) return a;
  const [head = "", tail] = a.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${plainAddress(`${groups.slice(0, 4).join(":")}::`)}/64`;
}

/** Who a request is bounded as, and what was wrong with its proxy's header when that was not read. */
export interface ClientOf {
  readonly address: string;
  /** The trusted proxy it came through (its own request, or one whose header was not taken, included). */
  readonly via?: string;
  /** Why a trusted proxy's header was not taken (the request is then the proxy's own). */
  readonly malformed?: string;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/**
 * The address `headers` from `remote` are bounded as: `remote` itself, unless it is a trusted proxy
 * and its `X-Forwarded-For` (or, without one, `Forwarded`) names the client.
 */
export function clientOf(remote: string, headers: Headers, trusted: TrustedProxies | undefined): ClientOf {
  if (trusted === undefined || !trusted.has(remote)) return { address: remote };
  const xff = headerText(headers["x-forwarded-for"]);
  const forwarded = xff === undefined ? headerText(headers.forwarded) : undefined;
  const header = xff !== undefined ? "X-Forwarded-For" : "Forwarded";
  const entries =
    xff !== undefined ? listOf(xff) : forwarded !== undefined ? forwardedFors(forwarded) : undefined;
  // Without either, the proxy's own request (its health check): bounded as the proxy.
  if (entries === undefined) return { address: remote, via: remote };
  if (entries.length === 0) return { address: remote, via: remote, malformed: `${header}: names no address` };
  let leftmost: string | undefined;
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i] as string;
    const address = entryAddress(entry);
    if (address === undefined)
      return {
        address: remote,
        via: remote,
        malformed: `${header}: the entry ${JSON.stringify(entry.slice(0, 80))} names no client address`,
      };
    if (!trusted.has(address)) return { address, via: remote };
    leftmost = address;
  }
  // Every hop a trusted proxy: the first is the client, as nginx takes it.
  return { address: leftmost as string, via: remote };
}

/** A header given once or more (Node joins most repeats with `, `; an array is joined the same). */
function headerText(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(", ") : value;
}

/** A comma-separated list's elements, trimmed; empty ones skipped (RFC 9110 §5.6.1). */
function listOf(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** The `for=` of each element of a `Forwarded` header (an element without one, whole: no address). */
function forwardedFors(text: string): string[] {
  const out: string[] = [];
  // Elements by commas outside quotes, their pairs by semicolons.
  for (const element of text.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? []) {
    if (element.trim() === "") continue;
    const pair = (element.match(/(?:[^;"]|"(?:[^"\\]|\\.)*")+/g) ?? [])
      .map((p) => p.trim())
      .find((p) => /^for\s*=/i.test(p));
    const value = pair?.replace(/^for\s*=\s*/i, "") ?? element.trim();
    out.push(/^".*"$/.test(value) ? value.slice(1, -1).replace(/\\(.)/g, "$1") : value);
  }
  return out;
}

/** The address of one entry (`192.0.2.7`, `192.0.2.7:4711`, `2001:db8::1`, `[2001:db8::1]:4711`), or undefined. */
function entryAddress(entry: string): string | undefined {
  const m =
    /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(entry) ?? /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/.exec(entry);
  const address = m?.[1] ?? entry;
  if (m?.[2] !== undefined && Number(m[2]) > 65_535) return undefined;
  return isIP(address) === 0 ? undefined : plainAddress(address);
}
