/**
 * What the per-address limits (broker/admission.ts: connection rate, connections before CONNECT,
 * failed-login bans) count a client under. An IPv4 client is its address, an IPv4 peer on a
 * dual-stack socket (`::ffff:10.0.4.17`) the same IPv4 address. An IPv6 client is its /64 by default:
 * one host on an IPv6 LAN forms addresses of its own in the LAN's /64 at will (SLAAC privacy
 * addresses, or any address it binds), so counted per address it could open a fresh bucket and a
 * fresh ban for every connection. The key names the prefix (`2001:db8:0:1::/64`), so the log says
 * what was counted; a link-local one keeps its zone (`fe80::/64%eth0`), one per link.
 */
import { isIP } from "node:net";

/** The IPv6 prefix length counted as one client by default. */
export const DEFAULT_IPV6_PREFIX_BITS = 64;

/** The key for `address` (a socket's remoteAddress), IPv6 addresses cut to `prefixBits` bits. */
export function addressKey(address: string | undefined, prefixBits = DEFAULT_IPV6_PREFIX_BITS): string {
  if (address === undefined || address === "") return "unknown";
  const zoneAt = address.indexOf("%");
  const bare = zoneAt < 0 ? address : address.slice(0, zoneAt);
  const zone = zoneAt < 0 ? "" : address.slice(zoneAt);
  if (isIP(bare) !== 6) return address;
  const groups = ipv6Groups(bare);
  if (groups === undefined) return address;
  if (isMappedIpv4(groups)) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  if (prefixBits >= 128) return compress(groups) + zone;
  const cut = groups.map((g, i) => {
    const bits = Math.min(16, Math.max(0, prefixBits - i * 16));
    return bits === 0 ? 0 : g & (0xffff << (16 - bits)) & 0xffff;
  });
  return `${compress(cut)}/${prefixBits}${zone}`;
}

/** `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2). */
function isMappedIpv4(g: readonly number[]): boolean {
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
}

/** The eight 16-bit groups of an IPv6 address `isIP` accepted (a dotted IPv4 tail allowed). */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  const part = (s: string | undefined) => (s === undefined || s === "" ? [] : s.split(":"));
  const head = part(halves[0]);
  const tail = part(halves[1]);
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const all = [...head, ...Array<string>(fill).fill("0"), ...tail].map((h) => Number.parseInt(h, 16));
  return all.length === 8 && all.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffff) ? all : undefined;
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups (the first of equals) as `::`. */
function compress(groups: readonly number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}
