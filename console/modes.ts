/**
 * The console's input modes besides the keys of the key table: the help over the screen, a line of
 * text asked in the prompt line (a node id, a percentage), and a y/n confirmation of a fleet-wide
 * fault. It owns what is being asked and what a key does to it; the footer shows it (render/footer.ts).
 */
import type { FooterState } from "./render/footer.js";

export type Mode = "normal" | "help" | "prompt" | "confirm";

interface Prompt {
  readonly label: string;
  value: string;
  readonly submit: (value: string) => void;
}

interface Confirmation {
  readonly question: string;
  readonly yes: () => void;
}

export class Modes {
  mode: Mode = "normal";
  private prompt: Prompt | undefined;
  private pending: Confirmation | undefined;

  /** Asks for a line of text: Enter submits it, Esc cancels. */
  ask(label: string, submit: (value: string) => void): void {
    this.mode = "prompt";
    this.prompt = { label, value: "", submit };
  }

  /** Asks y/n: `y` runs `yes`, any other key cancels (said by `declined`). */
  confirm(question: string, yes: () => void): void {
    this.mode = "confirm";
    this.pending = { question, yes };
  }

  /** A key while the prompt line asks for text. */
  promptKey(ch: string | undefined, name: string): void {
    const p = this.prompt;
    if (!p) return;
    if (name === "escape") {
      this.mode = "normal";
      this.prompt = undefined;
    } else if (name === "enter") {
      this.mode = "normal";
      this.prompt = undefined;
      p.submit(p.value.trim());
    } else if (name === "backspace") {
      p.value = p.value.slice(0, -1);
    } else if (ch && /^[A-Za-z0-9_.-]$/.test(ch) && p.value.length < 40) {
      p.value += ch;
    }
  }

  /** A key while a y/n question is asked; `declined` hears the question not taken. */
  confirmKey(name: string, declined: (question: string) => void): void {
    const c = this.pending;
    this.mode = "normal";
    this.pending = undefined;
    if (!c) return;
    if (name === "y" || name === "Y") c.yes();
    else declined(c.question);
  }

  /** What the footer shows of the mode: the prompt and its text, or the question. */
  footer(): FooterState {
    if (this.mode === "prompt" && this.prompt) return { prompt: this.prompt };
    if (this.mode === "confirm") return this.pending ? { question: this.pending.question } : {};
    return {};
  }
}
