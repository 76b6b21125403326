// A virtual-time run's pace in the header: how far virtual time has got and at what speed
// (`42 s ×10`, `42 s PAUSED ×10`), a pause/resume button and the speeds ×1 ×10 ×100 max, as the
// console's P and < > keys. Shown only for a fleet that has a pace; each control posts to
// /api/fleet/pace and the header follows what the server pushes back (`fleet` and `clock` events).

import { api, explain } from "./api.js";
import { h } from "./dom.js";
import { say } from "./ui.js";

export const SPEEDS = [1, 10, 100, "max"];

/** `×10`, `max`. */
export function speedText(speed) {
  return speed === "max" ? "max" : `×${speed}`;
}

/** The header's figure, as the console's: whole virtual seconds, PAUSED, the speed. */
export function paceText(now, pace) {
  const s = Math.floor((now ?? 0) / 1000);
  return `${s} s ${pace.paused ? "PAUSED " : ""}${speedText(pace.speed)}`;
}

/** The pace controls; `render(fleet)` on every frame updates them (cheaply: only what moved). */
export function paceControls() {
  let current;
  const post = async (body) => {
    try {
      await api("POST", "api/fleet/pace", { body });
    } catch (e) {
      say(`Could not change the pace: ${explain(e)}`, "error");
    }
  };
  const pause = h(
    "button",
    {
      type: "button",
      class: "small",
      id: "pace-pause",
      "aria-pressed": "false",
      onclick: () => current && post({ paused: !current.paused }),
    },
    "Pause",
  );
  const speeds = SPEEDS.map((speed) =>
    h(
      "button",
      {
        type: "button",
        class: "small ghost",
        "data-speed": String(speed),
        "aria-pressed": "false",
        title: speed === "max" ? "as fast as the CPU allows" : `${speed} virtual s per s`,
        onclick: () => post({ speed }),
      },
      speedText(speed),
    ),
  );
  const el = h(
    "div",
    { class: "pace", id: "pace", role: "group", "aria-label": "Virtual time", hidden: true },
    pause,
    speeds,
  );
  return {
    el,
    render(fleet) {
      const p = fleet?.capabilities?.pace ? fleet.pace : null;
      el.hidden = !p;
      if (!p) return;
      if (current?.paused !== p.paused) {
        pause.textContent = p.paused ? "Resume" : "Pause";
        pause.setAttribute("aria-pressed", String(p.paused));
      }
      if (current?.speed !== p.speed)
        for (const b of speeds) b.setAttribute("aria-pressed", String(b.dataset.speed === String(p.speed)));
      current = p;
    },
  };
}
