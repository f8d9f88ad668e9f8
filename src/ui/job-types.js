// The job types on the Workers view, each active or paused, with Pause / Resume
// (POST /jobtypes/{type}/pause|resume). A paused type's jobs are accepted and wait: no server starts them.
import { api, say } from "./api.js";
import { confirmAction, h, keyed, setText } from "./dom.js";

/**
 * The "Job types" section and its `update(pausedTypes)`: the types are read once from GET /jobtypes,
 * their state from each GET /workers (`pausedTypes`). `reload` refreshes the view after an action.
 */
export function jobTypesSection(reload) {
  const tbody = h("tbody");
  const section = h(
    "section",
    { "aria-label": "Job types", class: "job-types" },
    h("h2", {}, "Job types"),
    h(
      "div",
      { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Job types, scrollable" },
      h(
        "table",
        {},
        h("caption", {}, "Job types: a paused one's jobs wait until it is resumed"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Type", "State", "Action"].map((c) => h("th", { scope: "col" }, c)),
          ),
        ),
        tbody,
      ),
    ),
  );
  let types = null;

  function row(type) {
    const button = h("button", {
      type: "button",
      class: "secondary small",
      onclick: async () => {
        const pausing = tr.dataset.paused !== "true";
        const ok = await confirmAction(
          ...(pausing
            ? [`Pause ${type}?`, "No server starts its jobs until it is resumed; new ones are accepted and wait."]
            : [`Resume ${type}?`, "Its waiting jobs start."]),
        );
        if (!ok) return;
        const res = await api("POST", `/jobtypes/${encodeURIComponent(type)}/${pausing ? "pause" : "resume"}`).catch(
          () => null,
        );
        if (!res) return;
        say(`${res.jobType}: ${res.paused ? "paused" : "resumed"}`);
        await reload().catch(() => undefined);
      },
    });
    const tr = h(
      "tr",
      { "data-job-type": type },
      h("td", { class: "mono" }, type),
      h("td", {}, h("span", { class: "state" })),
      h("td", {}, button),
    );
    return tr;
  }

  function updateRow(tr, paused) {
    const type = tr.dataset.jobType;
    tr.dataset.paused = String(paused);
    const badge = tr.cells[1].firstElementChild;
    setText(badge, paused ? "paused" : "active");
    badge.className = `state state-${paused ? "paused" : "active"}`;
    const button = tr.cells[2].firstElementChild;
    setText(button, paused ? "Resume" : "Pause");
    button.setAttribute("aria-label", `${paused ? "Resume" : "Pause"} ${type}`);
  }

  async function update(pausedTypes) {
    types ??= (await api("GET", "/jobtypes")).map((t) => t.jobType);
    const paused = new Set(pausedTypes ?? []);
    keyed(
      tbody,
      types,
      (t) => t,
      row,
      (tr, t) => updateRow(tr, paused.has(t)),
    );
    section.hidden = types.length === 0;
  }

  return { section, update };
}
