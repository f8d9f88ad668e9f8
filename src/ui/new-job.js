// Start a job (#/new): a form generated from the job type's postSchema (GET /jobtypes). The server's
// schema is the judge: the form only parses numbers and JSON, and shows the 400's issues by field.
import { ApiError, api } from "./api.js";
import { h } from "./dom.js";

let lastType = "";

export function newJobView(main) {
  const select = h("select", { id: "job-type", onchange: () => build() });
  const about = h("p", { class: "hint" });
  const slot = h("div");
  main.append(
    h("h1", {}, "Start a job"),
    h("div", { class: "field" }, h("label", { for: "job-type" }, "Job type"), select),
    about,
    slot,
  );
  let types = [];

  api("GET", "/jobtypes").then(
    (list) => {
      types = list;
      for (const t of list) select.append(h("option", { value: t.jobType }, t.jobType));
      if (list.some((t) => t.jobType === lastType)) select.value = lastType;
      if (list.length === 0) about.textContent = "This server has no job types.";
      else build();
    },
    () => undefined, // the banner says why
  );

  function build() {
    const type = types.find((t) => t.jobType === select.value);
    if (!type) return;
    lastType = type.jobType;
    about.textContent = type.description || "";
    slot.replaceChildren(schemaForm(type));
  }
  return () => undefined;
}

/** One field per top-level property; `read()` gives its JSON value, or `undefined` to leave it out. */
function schemaForm(type) {
  const schema = type.postSchema ?? {};
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([name, prop], i) =>
    field(`p-${i}`, name, prop, required.has(name)),
  );
  const formAlert = h("div", { class: "form-alert" });
  const submit = h("button", { type: "submit" }, "Start job");
  const form = h(
    "form",
    { "aria-label": "Job parameters", novalidate: true, class: "params" },
    fields.length === 0 ? h("p", { class: "hint" }, "This job type takes no parameters.") : null,
    required.size > 0 ? h("p", { class: "hint" }, "Fields marked * are required.") : null,
    fields.map((f) => f.wrap),
    formAlert,
    h("div", { class: "actions" }, submit),
  );

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const f of fields) f.showError(null);
    formAlert.replaceChildren();
    const body = {};
    let bad = null;
    for (const f of fields) {
      try {
        const v = f.read();
        if (v !== undefined) body[f.name] = v;
      } catch (err) {
        f.showError(err.message);
        bad ??= f;
      }
    }
    if (bad) {
      bad.input.focus();
      return;
    }
    submit.disabled = true;
    try {
      const res = await api("POST", `/job/${encodeURIComponent(type.jobType)}`, body, { quiet: true });
      location.hash = `#/jobs/${res.uuid}`;
    } catch (err) {
      showIssues(err, fields, formAlert);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** The 400's issues beside their fields (path "n" or "n.x" → field n), the rest above the button. */
function showIssues(err, fields, formAlert) {
  const issues = err instanceof ApiError && err.issues.length > 0 ? err.issues : [{ path: "", message: err.message }];
  const byField = new Map();
  const general = [];
  for (const issue of issues) {
    const top = String(issue.path ?? "").split(".")[0];
    const f = fields.find((x) => x.name === top);
    if (f) byField.set(f, [...(byField.get(f) ?? []), issue.message]);
    else general.push(issue.path ? `${issue.path}: ${issue.message}` : issue.message);
  }
  for (const [f, messages] of byField) f.showError(messages.join("; "));
  if (general.length > 0) formAlert.append(h("p", { role: "alert", class: "error" }, general.join("; ")));
  const first = [...byField.keys()][0];
  first?.input.focus();
}

/** The type a property asks for: its `type` (the first non-null of a list), or that of its `anyOf` / `enum`. */
function kindOf(prop) {
  const t = Array.isArray(prop.type) ? prop.type.find((x) => x !== "null") : prop.type;
  if (t) return t;
  if (Array.isArray(prop.enum) && prop.enum.every((v) => typeof v === "string")) return "string";
  const inner = (prop.anyOf ?? prop.oneOf ?? []).find((s) => s.type && s.type !== "null");
  return inner ? kindOf(inner) : "json";
}

function field(id, name, prop, isRequired) {
  const kind = kindOf(prop);
  const enumValues = prop.enum ?? (prop.anyOf ?? []).find((s) => Array.isArray(s.enum))?.enum;
  const hasDefault = prop.default !== undefined;
  const hint = prop.description ? h("p", { class: "hint", id: `${id}-hint` }, prop.description) : null;
  const common = { id, name, required: isRequired, "aria-describedby": hint ? `${id}-hint` : null };
  let input;
  let read;
  if (kind === "boolean") {
    input = h("input", { ...common, type: "checkbox", checked: prop.default === true });
    read = () => input.checked;
  } else if (kind === "integer" || kind === "number") {
    input = h("input", {
      ...common,
      type: "number",
      step: kind === "integer" ? "1" : "any",
      value: hasDefault ? String(prop.default) : null,
    });
    read = () => {
      if (input.validity.badInput) throw new Error("enter a number");
      return input.value === "" ? undefined : Number(input.value);
    };
  } else if (kind === "string" && enumValues) {
    input = h(
      "select",
      common,
      isRequired && !hasDefault ? h("option", { value: "" }, "Choose…") : null,
      !isRequired && !hasDefault ? h("option", { value: "" }, "(none)") : null,
      enumValues.map((v) => h("option", { value: v, selected: v === prop.default ? "" : null }, v)),
    );
    read = () => (input.value === "" ? undefined : input.value);
  } else if (kind === "string") {
    input = h("input", { ...common, type: "text", value: hasDefault ? prop.default : null });
    // An empty required field is sent as "" so the server's own message explains it.
    read = () => (input.value === "" && !isRequired ? undefined : input.value);
  } else {
    input = h("textarea", { ...common, rows: 4, spellcheck: "false" }, hasDefault ? JSON.stringify(prop.default) : "");
    read = () => {
      if (input.value.trim() === "") return undefined;
      try {
        return JSON.parse(input.value);
      } catch {
        throw new Error("not valid JSON");
      }
    };
  }
  // The label's text is the property name alone; the required mark sits beside it (the input's
  // `required` tells screen readers).
  const label = h(
    "span",
    { class: "label-line" },
    h("label", { for: id }, name),
    isRequired ? h("span", { class: "req", "aria-hidden": "true" }, "*") : null,
  );
  const errorSlot = h("div", { class: "field-error" });
  const wrap = h("div", { class: kind === "boolean" ? "field check" : "field" }, label, input, hint, errorSlot);
  return {
    name,
    input,
    wrap,
    read,
    /** A message in a role="alert" beside the field (null clears it), tied to the input for screen readers. */
    showError(message) {
      errorSlot.replaceChildren();
      input.removeAttribute("aria-invalid");
      if (hint) input.setAttribute("aria-describedby", `${id}-hint`);
      else input.removeAttribute("aria-describedby");
      if (!message) return;
      errorSlot.append(h("p", { role: "alert", class: "error", id: `${id}-error` }, message));
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", `${hint ? `${id}-hint ` : ""}${id}-error`);
    },
  };
}
