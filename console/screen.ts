/**
 * The blessed screen the console draws on, made for its streams and its glyphs: box lines as UTF-8
 * where it draws Unicode, ASCII stand-ins for the text where the terminal is not UTF-8; and the
 * screen read back as text (what tests and the handle's `text()` see).
 */
import blessed from "blessed";
import type { ResolvedOptions } from "./options.js";
import { ASCII_TEXT, type Glyphs, UNICODE } from "./render/glyphs.js";

type ScreenLines = { lines: [unknown, string][][] };

export function makeScreen(opts: ResolvedOptions, g: Glyphs): blessed.Widgets.Screen {
  const screen = blessed.screen({
    input: opts.input as NodeJS.ReadStream,
    output: opts.output as NodeJS.WriteStream,
    terminal: opts.terminal,
    smartCSR: true,
    fullUnicode: false,
    forceUnicode: g === UNICODE,
    warnings: false,
    title: "twinfleet",
  });
  // Box lines as UTF-8 when we draw Unicode anyway: blessed would switch to the terminal's
  // alternate character set for them, which tmux's capture and some terminfo entries get wrong.
  const tput = (screen as unknown as { tput: { brokenACS: boolean; utoa: Record<string, string> } }).tput;
  if (g === UNICODE) tput.brokenACS = true;
  // On a terminal that is not UTF-8, blessed draws what is not ASCII as `?`: `virtual 18 s ?10`.
  else tput.utoa = { ...tput.utoa, ...ASCII_TEXT };
  return screen;
}

/** The screen as plain text, one string per row (what the last render drew). */
export const screenText = (screen: blessed.Widgets.Screen): string[] =>
  (screen as unknown as ScreenLines).lines.map((row) => row.map((cell) => cell[1]).join(""));
