// The fleet page's controls: the packet loss, the fault scenarios and the query, as far as the fleet
// has them; each checks its values, asks for confirmation, and says what the server answered.

import { api, explain } from "./api.js";
import { h } from "./dom.js";
import { confirmAction, say } from "./ui.js";

/** The loss control, fault buttons and query, as far as this fleet has them. */
export function fillControls(box, fleet) {
  const cap = fleet?.capabilities ?? {};
  const parts = [h("h2", { id: "controls-h" }, "Controls")];
  if (cap.setLoss) {
    const input = h("input", {
      type: "number",
      id: "loss",
      min: 0,
      max: 100,
      step: 1,
      value: fleet.lossPct ?? 0,
    });
    parts.push(
      h(
        "form",
        {
          class: "inline",
          novalidate: true,
          onsubmit: async (e) => {
            e.preventDefault();
            const v = Number(input.value);
            if (!(input.value !== "" && v >= 0 && v <= 100))
              return say("Packet loss must be a number from 0 to 100.", "error");
            if (
              !(await confirmAction(
                "Change packet loss",
                `Set every link's packet loss to ${v} %?`,
                "Set loss",
              ))
            )
              return;
            await act(
              () => api("POST", "api/fleet/loss", { body: { pct: v } }),
              `Packet loss set to ${v} %.`,
            );
          },
        },
        h("label", { for: "loss" }, "Packet loss %"),
        input,
        h("button", { type: "submit" }, "Apply"),
      ),
    );
  }
  const fault = (flag, label, body, question, fields) => {
    if (!cap[flag]) return;
    const inputs = fields.map(([key, text, value, min, max, step]) => ({
      key,
      input: h("input", {
        type: "number",
        id: `f-${body.kind}-${key}`,
        value,
        min,
        max,
        step,
        "aria-label": text,
      }),
      text,
    }));
    parts.push(
      h(
        "form",
        {
          class: "inline fault",
          novalidate: true,
          onsubmit: async (e) => {
            e.preventDefault();
            const b = { ...body };
            for (const { key, input, text } of inputs) {
              const v = Number(input.value);
              if (input.value === "" || !(v >= Number(input.min) && v <= Number(input.max)))
                return say(`${label}: ${text} must be from ${input.min} to ${input.max}.`, "error");
              b[key] = v;
            }
            if (!(await confirmAction(label, question(b), label))) return;
            await act(() => api("POST", "api/fleet/faults", { body: b }), `${label} started.`);
          },
        },
        h("button", { type: "submit", class: "danger" }, label),
        inputs.map(({ input, text }) => h("label", { class: "mini" }, input, h("span", {}, text))),
      ),
    );
  };
  fault(
    "powerOutage",
    "Power outage",
    { kind: "power-outage" },
    (b) => `Cut the power of every node for ${b.offS} s?`,
    [["offS", "s off", 10, 1, 3600, 1]],
  );
  fault(
    "restartBroker",
    "Broker restart",
    { kind: "broker-restart" },
    (b) => `Kill the broker and start it again after ${b.downS} s?`,
    [["downS", "s down", 5, 1, 3600, 1]],
  );
  fault(
    "partition",
    "Partition",
    { kind: "partition" },
    (b) => `Cut ${Math.round(b.fraction * 100)} % of the nodes off the network for ${b.forS} s?`,
    [
      ["fraction", "fraction", 0.25, 0.01, 1, 0.01],
      ["forS", "s", 20, 1, 3600, 1],
    ],
  );
  if (cap.query)
    parts.push(
      h(
        "button",
        {
          type: "button",
          class: "ghost",
          onclick: () => act(() => api("POST", "api/query"), "Query sent: every node will register again."),
        },
        "Query the fleet (Q1)",
      ),
    );
  if (fleet?.faults?.length)
    parts.push(h("p", { class: "faults-now" }, "Under way: ", fleet.faults.map((x) => x.what).join(", ")));
  if (parts.length === 1) parts.push(h("p", { class: "sub" }, "This fleet offers no fleet-wide actions."));
  box.replaceChildren(...parts);
}

async function act(fn, okText) {
  try {
    await fn();
    say(okText);
  } catch (e) {
    say(explain(e), "error");
  }
}
