// Small DOM helpers shared by the views: element building, keyed list updates, the confirm dialog, polling.

/**
 * `h("a", { href: "#/jobs" }, "Jobs")`: an element with attributes and children. `on*` keys add
 * listeners; `false`, `null` and `undefined` attributes are left out; children may be nested arrays.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k in el && k !== "list" && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  el.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** Sets an element's text only when it changed (keeps live regions quiet and selection intact). */
export function setText(el, text) {
  const s = String(text);
  if (el.textContent !== s) el.textContent = s;
}

/**
 * Makes `parent`'s children match `items` in order, reusing the element of each key: an existing
 * one is updated in place, so focus and selection inside it survive a refresh.
 */
export function keyed(parent, items, keyOf, create, update) {
  const old = new Map();
  for (const el of parent.children) old.set(el.dataset.key, el);
  items.forEach((item, i) => {
    const key = String(keyOf(item));
    let el = old.get(key);
    old.delete(key);
    if (!el) {
      el = create(item);
      el.dataset.key = key;
    }
    update(el, item);
    if (parent.children[i] !== el) parent.insertBefore(el, parent.children[i] ?? null);
  });
  for (const el of old.values()) el.remove();
}

/** Asks "are you sure?" in the page's <dialog>; resolves true on Confirm, false on Back or Escape. */
export function confirmAction(title, text) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  const opener = document.activeElement;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        if (opener?.isConnected) opener.focus(); // back where the user was
        resolve(dialog.returnValue === "confirm");
      },
      { once: true },
    );
  });
}

/**
 * Runs `tick` now and then every `ms` after each run ends (never two at once), paused while the
 * page is hidden. Returns the stop function.
 */
export function poll(tick, ms) {
  let timer = null;
  let busy = false;
  let stopped = false;
  const run = async () => {
    timer = null;
    if (stopped || busy || document.hidden) return;
    busy = true;
    try {
      await tick();
    } catch {
      // tick shows its own errors; keep polling so the view recovers when the server does
    }
    busy = false;
    if (!stopped && !document.hidden) timer = setTimeout(run, ms);
  };
  const onVisible = () => {
    if (!document.hidden && timer === null) run();
  };
  document.addEventListener("visibilitychange", onVisible);
  run();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisible);
  };
}

/** `2026-01-01T10:00:00.000Z` → a <time> in the user's locale; the exact ISO time shows on hover. */
export function time(iso) {
  if (!iso) return "—";
  return h("time", { datetime: iso, title: iso }, new Date(iso).toLocaleString());
}

/** A job's status as GET /jobs names it (src/job/job-status.ts): finished split by result code. */
export function statusOf(state, resultCode) {
  if (state !== "finished") return state;
  if (resultCode === 410) return "killed";
  return resultCode >= 200 && resultCode <= 299 ? "finished" : "failed";
}

/** JSON for a <pre>. */
export function json(value) {
  return JSON.stringify(value, null, 2) ?? "null";
}
