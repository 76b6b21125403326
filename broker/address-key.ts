/**
 * What the per-address limits (broker/admission.ts: connection rate, connections before CONNECT,
 * failed-login bans) count a client under. An IPv4 client is its address, an IPv4 peer on a
 * dual-stack socket (`::ffff:10.0.4.17`) the same IPv4 address. An IPv6 client is its /64 by default:
 * one host on an IPv6 LAN forms addresses of its own in the LAN's /64 at will (SLAAC privacy
 * addresses, or any address it binds), so counted per address it could open a fresh bucket and a
 * fresh ban for every connection. The key names the prefix (`2001:db8:0:1::/64`), so the log says
 * what was counted; a link-local one keeps its zone (`fe80::/64%eth0`), one per link.
 */
import ipaddr from "ipaddr.js";

/** The IPv6 prefix length counted as one client by default. */
export const DEFAULT_IPV6_PREFIX_BITS = 64;

/** The key for `address` (a socket's remoteAddress), IPv6 addresses cut to `prefixBits` bits. */
export function addressKey(address: string | undefined, prefixBits = DEFAULT_IPV6_PREFIX_BITS): string {
  if (address === undefined || address === "") return "unknown";
  if (!ipaddr.IPv6.isValid(address)) return address;
  const ip = ipaddr.IPv6.parse(address);
  if (ip.isIPv4MappedAddress()) return ip.toIPv4Address().toString();
  const zone = ip.zoneId === undefined ? "" : `%${ip.zoneId}`;
  ip.zoneId = undefined;
  if (prefixBits >= 128) return ip.toRFC5952String() + zone;
  const net = ipaddr.IPv6.networkAddressFromCIDR(`${ip.toNormalizedString()}/${prefixBits}`);
  return `${net.toRFC5952String()}/${prefixBits}${zone}`;
}
