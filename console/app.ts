/**
 * The console itself: a blessed screen (screen.ts) over a ConsoleSource. It owns the widgets' state
 * (cursor, zoom, filter, detail), the event log and the frame timer; the modes a key meets (help, a
 * text prompt, a y/n confirmation) are modes.ts's, what each key does is in the key table (keys.ts),
 * the right-hand pane is side-pane.ts's. Sources only mark the view dirty; a frame (at most `fps` per second, and only
 * when dirty, or once a second for the charts' time axis and the fault indicator's seconds) reads
 * one snapshot and draws it, so the fleet never pays per message for being watched.
 */
import type blessed from "blessed";
import { every } from "../node/scheduler.js";
import type { NodeId } from "../protocol/index.js";
import { sourceMinutes } from "../view/minutes-feed.js";
import type { ConsoleNode, ConsoleSource, LogLevel, LogLine } from "../view/source.js";
import { clampCursor, moveCursor, placeCursor } from "./cursor.js";
import { type KeyContext, keyBindings, type Move } from "./keys.js";
import { createBoxes, drawHelp, fitsIn, gridTitle, placeBoxes, scrollHelp } from "./layout.js";
import { Modes } from "./modes.js";
import { type ConsoleOptions, resolveOptions } from "./options.js";
import {
  applyFilter,
  FILTERS,
  type Filter,
  gridLayout,
  indexAt,
  legend,
  renderGrid,
  summarize,
  type Zoom,
} from "./render/fleet-grid.js";
import { renderFooter } from "./render/footer.js";
import { glyphsFor } from "./render/glyphs.js";
import { type FaultFlag, faultFlag, flagText, paceFlag, renderHeader } from "./render/header.js";
import { renderLog } from "./render/log.js";
import { makeScreen, screenText } from "./screen.js";
import { drawSidePane } from "./side-pane.js";
import { type ConsoleEnd, guardProcess, onHangUp } from "./terminal.js";

export type { ConsoleEnd };

export interface ConsoleHandle {
  /**
   * Resolves, with how, when the console closes: the user quits (with a source that finishes first,
   * the second `q` / Ctrl-C), a signal, its terminal hanging up, or close(); rejects on an uncaught error.
   */
  readonly closed: Promise<ConsoleEnd>;
  /** Draws a frame now if anything changed (the timer calls this; tests call it directly). */
  frame(): void;
  /** The screen as plain text, one string per row (what the last frame drew). */
  text(): string[];
  close(): void;
}

const LOG_LINES = 200;
const bindings = keyBindings();

export function openConsole(source: ConsoleSource, options?: ConsoleOptions): ConsoleHandle {
  const opts = resolveOptions(options);
  const g = glyphsFor(process.env, opts.ascii);
  const screen = makeScreen(opts, g);
  const boxes = createBoxes(screen);
  const { header, grid, log, footer, help } = boxes;

  const t0 = source.now();
  let dirty = true;
  const modes = new Modes();
  // As the last frame drew them: the fault indicator and the clock's second (the charts' time axis).
  let drawnFlag = "";
  let drawnSecond = Number.NaN;
  /** The source is finishing after a first quit (its ending line in the footer). */
  let quitting = false;
  let drawnEnding: string | undefined;
  let zoom: Zoom = "node";
  let filter: Filter = "all";
  let cursor = 0;
  let cursorId: NodeId | undefined;
  let detailOpen = false;
  /** The convergence chart shows the twins service's minutes (the last 48 h) instead of the last minutes. */
  let longRange = false;
  const minutes = opts.minutes ?? sourceMinutes(source);
  let focused: NodeId | undefined;
  let shown: readonly ConsoleNode[] = [];
  let gridGeom = { width: 1, height: 1, page: 0, layout: { perCell: 1, perPage: 1, pages: 1 } };
  const logLines: LogLine[] = [];
  let closing = false;
  let resolveClosed: (end: ConsoleEnd) => void = () => {};
  let rejectClosed: (e: unknown) => void = () => {};
  const closed = new Promise<ConsoleEnd>((res, rej) => {
    resolveClosed = res;
    rejectClosed = rej;
  });

  const pushLog = (line: LogLine) => {
    // One entry, one row: a multi-line message would push the newest entries out of the box.
    logLines.push(line.text.includes("\n") ? { ...line, text: line.text.replace(/\s*\n\s*/g, " ") } : line);
    if (logLines.length > LOG_LINES) logLines.splice(0, logLines.length - LOG_LINES);
    dirty = true;
  };
  const note = (level: LogLevel, text: string) => pushLog({ t: source.now(), level, text });
  const unsubscribe = [
    source.on("changed", () => {
      dirty = true;
    }),
    source.on("log", pushLog),
    minutes.onChange(() => {
      dirty = true;
    }),
  ];

  const moveTo = (i: number) => {
    cursor = clampCursor(i, shown.length);
    cursorId = shown[cursor]?.id;
  };
  // The grid's geometry as the next frame will draw it (zoom may have changed since the last).
  const move = (to: Move) =>
    moveTo(
      moveCursor(
        to,
        cursor,
        shown.length,
        gridLayout(shown.length, gridGeom.width, gridGeom.height, zoom),
        gridGeom.width,
      ),
    );
  /** The first quit asks the source to finish (if it has something to finish); the second closes. */
  const quit = () => {
    if (quitting || !source.quit?.()) return close("quit");
    quitting = true;
    modes.mode = "normal";
    dirty = true;
  };
  const keys: KeyContext = {
    source,
    quit,
    showHelp: () => {
      modes.mode = "help";
      help.resetScroll();
    },
    move,
    toggleDetail: () => {
      detailOpen = !detailOpen;
    },
    toggleZoom: () => {
      zoom = zoom === "node" ? "fit" : "node";
    },
    nextFilter: () => {
      filter = FILTERS[(FILTERS.indexOf(filter) + 1) % FILTERS.length] ?? "all";
    },
    toggleRange: () => {
      longRange = !longRange;
      minutes.show(longRange);
    },
    selected: () => shown[cursor],
    goTo: (id) => {
      const i = shown.findIndex((n) => n.id === id);
      if (i < 0) note("warn", `no node ${id}${filter === "all" ? "" : ` in filter ${filter}`}`);
      else moveTo(i);
    },
    note,
    act: (cap, what, run) => {
      if (!source.capabilities[cap]) {
        note("warn", `${what}: not available for this fleet`);
        return;
      }
      note("info", what);
      const fail = (e: unknown) =>
        note("error", `${what} failed: ${e instanceof Error ? e.message : String(e)}`);
      try {
        run().catch(fail);
      } catch (e) {
        fail(e);
      }
    },
    ask: (label, submit) => modes.ask(label, submit),
    confirm: (question, yes) => modes.confirm(question, yes),
  };

  screen.on("keypress", (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) => {
    // Printable keys by their character (blessed names `L` as `S-l`), the others by blessed's name.
    const printable = ch !== undefined && ch.length === 1 && ch > " " && ch !== "\x7f";
    const name = printable ? ch : ch === " " ? "space" : (key?.full ?? "");
    if (name === "return") return; // blessed emits `enter` for the same key
    if (name === "C-c") return quit();
    // Too small a terminal shows no fleet: no key acts on what cannot be seen, but `q` quits.
    if (!fitsIn(screen.width as number, screen.height as number)) return name === "q" ? quit() : undefined;
    if (quitting) {
      if (name === "q") quit();
      return; // the fleet is finishing: no more actions
    }
    // A help taller than the terminal scrolls; any other key closes it.
    if (modes.mode === "help") modes.mode = scrollHelp(help, name) ? "help" : "normal";
    else if (modes.mode === "prompt") modes.promptKey(ch, name);
    else if (modes.mode === "confirm") modes.confirmKey(name, (q) => note("info", `not done: ${q}`));
    else bindings.get(name)?.(keys);
    dirty = true;
  });
  grid.on("click", (data: blessed.Widgets.Events.IMouseEventArg) => {
    const col = data.x - (grid.aleft as number) - 1;
    const row = data.y - (grid.atop as number) - 1;
    const i = indexAt(shown.length, gridGeom.width, gridGeom.layout, gridGeom.page, col, row);
    if (i === undefined) return;
    if (i === cursor) detailOpen = !detailOpen;
    moveTo(i);
    dirty = true;
  });
  for (const [wheel, to] of [
    ["wheeldown", "page-down"],
    ["wheelup", "page-up"],
  ] as const) {
    grid.on(wheel, () => {
      move(to);
      dirty = true;
    });
  }
  help.on("click", () => {
    modes.mode = "normal";
    dirty = true;
  });
  screen.on("resize", () => {
    dirty = true;
  });

  const draw = (flag: FaultFlag | undefined) => {
    const W = screen.width as number;
    if (!placeBoxes(boxes, W, screen.height as number)) return screen.render();
    const all = source.nodes();
    const sum = summarize(all);
    shown = applyFilter(all, filter);
    cursor = placeCursor(all, shown, cursor, cursorId);
    const sel = shown[cursor];
    // The node chosen stays chosen while a filter hides it, until a move or until it leaves the fleet.
    if (cursorId === undefined || (sel?.id !== cursorId && !all.some((n) => n.id === cursorId))) {
      cursorId = sel?.id;
    }

    const c = source.convergence();
    drawnFlag = flagText(flag);
    const pace = source.capabilities.pace ? source.pace?.() : undefined;
    const facts = {
      ...sum,
      fraction: c.fraction,
      known: c.known,
      ...(c.online !== undefined ? { judged: c.online, judgedUnheard: c.unheard ?? 0 } : {}),
      lossPct: source.lossPct(),
      title: source.title,
    };
    header.setContent(renderHeader(pace ? { ...facts, pace: paceFlag(pace, source.now()) } : facts, flag, W));

    const gw = Math.max(1, (grid.width as number) - 2);
    const gh = Math.max(1, (grid.height as number) - 3);
    const r = renderGrid(shown, gw, gh, zoom, cursor, g);
    gridGeom = { width: gw, height: gh, page: r.page, layout: r.layout };
    grid.setContent([...r.lines, legend(g, zoom)].join("\n"));
    const per = r.layout.perCell > 1 ? ` ${r.layout.perCell}/cell` : "";
    grid.setLabel(
      gridTitle(filter, sel ? sel.id : "-", `pg ${r.page + 1}/${r.layout.pages}${per}`, grid.width as number),
    );

    const want = detailOpen ? sel?.id : undefined;
    if (want !== focused) {
      focused = want;
      source.focus?.(want);
    }
    drawSidePane(boxes, {
      source,
      convergence: c,
      detailOf: want,
      glyphs: g,
      windowMs: opts.windowMs,
      minutes: longRange ? minutes.state() : undefined,
    });

    log.setContent(renderLog(logLines, t0, (log.height as number) - 2, (log.width as number) - 2).join("\n"));

    drawnEnding = quitting ? source.ending?.() : undefined;
    footer.setContent(
      renderFooter(quitting ? { ending: drawnEnding ?? "finishing" } : modes.footer(), source.capabilities),
    );
    if (modes.mode === "help") {
      drawHelp(help, source.capabilities, screen.height as number);
      help.setFront();
    } else {
      help.hide();
    }
    screen.render();
  };

  const frame = () => {
    if (closing) return;
    const flag = faultFlag(source.faults(), source.now());
    // While finishing, the footer counts down on its own.
    const ending = quitting ? source.ending?.() : undefined;
    const second = Math.floor(source.now() / 1000);
    if (!dirty && flagText(flag) === drawnFlag && ending === drawnEnding && second === drawnSecond) return;
    dirty = false;
    drawnSecond = second;
    try {
      draw(flag);
    } catch (e) {
      fail(e);
    }
  };

  const teardown = () => {
    closing = true;
    timer.cancel();
    for (const u of unsubscribe) u();
    for (const u of unguard) u();
    minutes.show(false);
    if (focused !== undefined) source.focus?.(undefined);
    screen.destroy();
  };
  function close(end: ConsoleEnd = "closed") {
    if (closing) return;
    teardown();
    resolveClosed(end);
  }
  function fail(e: unknown) {
    if (closing) return;
    teardown();
    rejectClosed(e);
  }

  // SIGINT is a Ctrl-C from outside the terminal: the same as the key. SIGTERM and SIGHUP close, and
  // so does the terminal's input ending (it hung up, with or without a SIGHUP).
  const unguard = [
    opts.handleProcess ? guardProcess((s) => (s === "SIGINT" ? quit() : close(s)), fail) : () => {},
    onHangUp(opts.input, () => close("hung up"), opts.handleProcess),
  ];
  const timer = every(opts.scheduler, Math.round(1000 / opts.fps), frame);
  frame();

  return {
    closed,
    frame,
    close: () => close(),
    text: () => screenText(screen),
  };
}

/** Opens the console on the terminal (or the given streams) and resolves when the user quits. */
export function runConsole(source: ConsoleSource, options?: ConsoleOptions): Promise<ConsoleEnd> {
  return openConsole(source, options).closed;
}
