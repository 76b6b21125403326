/**
 * Secrets kept out of output. A password of 4 characters or more becomes `***` wherever it occurs;
 * a shorter one only where it stands as a URL's password (`user:pw@host`), since masking every
 * `0` of the password `0` would garble addresses, node ids and figures.
 */

/** The shortest secret masked wherever it occurs. */
export const MASK_EVERYWHERE_MIN = 4;

/** `text` with every secret of `secrets` replaced by `***` (see the module comment). */
export function maskSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    out =
      secret.length >= MASK_EVERYWHERE_MIN
        ? out.split(secret).join("***")
        : out.split(`:${secret}@`).join(":***@");
  }
  return out;
}
