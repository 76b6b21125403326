/**
 * The console's options, validated once where the console opens: a bad value names its field.
 */
import { z } from "zod";
import { RealScheduler, type Scheduler } from "../node/scheduler.js";
import type { MinutesFeed } from "../view/minutes-feed.js";

export interface ConsoleOptions {
  /** Defaults to process.stdin / process.stdout. */
  readonly input?: NodeJS.ReadableStream;
  readonly output?: NodeJS.WritableStream;
  /** terminfo name; defaults to $TERM (or xterm). */
  readonly terminal?: string;
  /** Redraws per second at most (1–30, default 8); a frame is drawn only when something changed. */
  readonly fps?: number;
  /** Plain ASCII cells; by default Unicode when the locale is UTF-8. */
  readonly ascii?: boolean;
  /** Width of the convergence chart's window, seconds (10–3600, default 60). */
  readonly windowS?: number;
  /**
   * Close the console on SIGINT/SIGTERM/SIGHUP and restore the terminal on an uncaught exception.
   * Default: on when drawing to process.stdout.
   */
  readonly handleProcess?: boolean;
  /** The redraw timer's scheduler. Default a RealScheduler; a test passes a FakeScheduler it advances. */
  readonly scheduler?: Scheduler;
  /**
   * Where the `last 48 h` chart's minutes come from; by default the source's own twins service's
   * (`source.minutes()`). A feed given here is its giver's to close.
   */
  readonly minutes?: MinutesFeed;
}

const Scalars = z.object({
  fps: z
    .number({ error: "options.fps must be a number" })
    .int("options.fps must be an integer")
    .min(1, "options.fps must be at least 1")
    .max(30, "options.fps must be at most 30")
    .default(8),
  windowS: z
    .number({ error: "options.windowS must be a number" })
    .min(10, "options.windowS must be at least 10")
    .max(3600, "options.windowS must be at most 3600")
    .default(60),
  ascii: z.boolean({ error: "options.ascii must be a boolean" }).optional(),
  handleProcess: z.boolean({ error: "options.handleProcess must be a boolean" }).optional(),
  terminal: z.string({ error: "options.terminal must be a string" }).min(1).optional(),
});

export interface ResolvedOptions {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  readonly terminal: string;
  readonly fps: number;
  readonly windowMs: number;
  readonly ascii: boolean | undefined;
  readonly handleProcess: boolean;
  readonly scheduler: Scheduler;
  readonly minutes: MinutesFeed | undefined;
}

export function resolveOptions(o: ConsoleOptions = {}): ResolvedOptions {
  const parsed = Scalars.safeParse({
    fps: o.fps,
    windowS: o.windowS,
    ascii: o.ascii,
    handleProcess: o.handleProcess,
    terminal: o.terminal,
  });
  if (!parsed.success) throw new RangeError(parsed.error.issues.map((i) => i.message).join("; "));
  const s = parsed.data;
  const output = o.output ?? process.stdout;
  return {
    input: o.input ?? process.stdin,
    output,
    terminal: s.terminal ?? process.env.TERM ?? "xterm",
    fps: s.fps,
    windowMs: s.windowS * 1000,
    ascii: s.ascii,
    handleProcess: s.handleProcess ?? output === process.stdout,
    scheduler: o.scheduler ?? new RealScheduler(),
    minutes: o.minutes,
  };
}
