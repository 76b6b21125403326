/**
 * A value the user gave, as an error message quotes it back: JSON-quoted (so control characters
 * read as `\n`, `\u001b`), cut after SHOWN_MAX characters with `…`, so a 10 KB flag value or a
 * binary path makes a one-line message. Every flag, option and request error quotes through here.
 */

/** The most characters of a user's value a message repeats. */
export const SHOWN_MAX = 60;

/**
 * `value` quoted for a message: `"abc"`, `"a\u001bb"`; past SHOWN_MAX characters of the quoted
 * text (escapes counted as written), cut with `…` between whole characters.
 */
export function shown(value: string): string {
  const whole = JSON.stringify(value);
  if (whole.length <= SHOWN_MAX + 2) return whole;
  let out = "";
  for (const ch of value) {
    const piece = JSON.stringify(ch).slice(1, -1);
    if (out.length + piece.length > SHOWN_MAX) break;
    out += piece;
  }
  return `"${out}…"`;
}

/**
 * A path as a message names it: bare when it is short and plain (`cannot read ./x.json`), else
 * quoted and cut like `shown`.
 */
export function shownPath(path: string): string {
  const quoted = shown(path);
  return path !== "" && quoted === `"${path}"` && !/\s/.test(path) ? path : quoted;
}

/**
 * A URL a user gave with its user info taken out, for a message to repeat: `mqtt://u:pw@h:1883` →
 * `mqtt://h:1883`, and so also when it is no URL the parser takes (`mqtt://u:pw@::1:1883`, a port
 * out of range, the scheme left out: `u:pw@h:1883` → `h:1883`), which used to be quoted back whole,
 * password and all. Everything up to the last `@` goes: a password may hold `/` or `@` unencoded.
 */
export function withoutUserInfo(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?[\s\S]*@/, "$1");
}
