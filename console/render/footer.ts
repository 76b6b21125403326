/**
 * The footer line: the key hints, or what the console is asking (a prompt, a y/n), or — while the
 * fleet finishes after a first quit — what it waits for and how to stop now.
 */
import { escapeTags } from "./glyphs.js";

export interface FooterState {
  /** The fleet is finishing: its line. */
  readonly ending?: string;
  readonly prompt?: { readonly label: string; readonly value: string };
  /** A y/n question. */
  readonly question?: string;
}

/** The footer's content, blessed tags included. */
export function renderFooter(s: FooterState): string {
  if (s.ending !== undefined) {
    return `{yellow-fg}${escapeTags(` ${s.ending}   q or Ctrl-C: stop now`)}{/yellow-fg}`;
  }
  if (s.prompt) return escapeTags(` ${s.prompt.label}: ${s.prompt.value}_   (Enter ok, Esc cancel)`);
  if (s.question !== undefined) return `{yellow-fg}${escapeTags(` ${s.question}? y/n`)}{/yellow-fg}`;
  return " ?:help q:quit arrows:move Enter:detail p:press +/-:loss z:zoom f:filter";
}
