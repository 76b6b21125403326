/**
 * What `twinfleet broker --host` accepts: an address to bind, so an IP address or a host name; a typo
 * with a space or a slash is told at once.
 */
import { isIP } from "node:net";
import { z } from "zod";

/** An RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, 253 at most. */
const HOST_NAME =
  /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export const hostFlag = z.string().refine(
  // A name of digits and dots only (`300.1.1.1`) is a mistyped address, not a name.
  (h) => isIP(h) !== 0 || (HOST_NAME.test(h) && !/^[\d.]+$/.test(h)),
  "must be an IP address or a host name (e.g. 0.0.0.0, ::, localhost)",
);
