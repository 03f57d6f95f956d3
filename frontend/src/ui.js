// Small DOM and network helpers shared by the pages. User-written text is only ever set
// with textContent; nothing is parsed as HTML.

import { t } from "./i18n.js";

export { formatDate } from "./i18n.js";

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/** Create an element with text content and attributes (no HTML parsing). */
export function el(tag, text = null, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

export function show(node, visible = true) {
  if (node) node.hidden = !visible;
}

/** Put a message in an aria-live area (errors have role="alert" in the templates). */
export function say(node, message) {
  if (!node) return;
  node.textContent = message ?? "";
  node.hidden = !message;
}

export function pageData() {
  const script = document.getElementById("page-data");
  return script ? JSON.parse(script.textContent) : {};
}

/** A non-2xx answer; `fromSite` when it is the app's own JSON error, not a proxy's page. */
export class ApiError extends Error {
  constructor(message, status, fromSite = false) {
    super(message);
    this.status = status;
    this.fromSite = fromSite;
  }
}

/** An attempt whose outcome is not known (no answer came back). */
export class Unsure extends Error {}

/** Stopped in this browser before anything was sent (a wallet on another chain, say). */
export class NotSent extends Error {}

/**
 * Did the site say for certain that nothing was sent, so a receipt code can be dropped?
 * Only the app's own JSON refusals say so (spartacus/web/submit.py): a 4xx (409: the
 * registry refused), 502 (the node refused the transaction) or 503 (nothing sent). Anything
 * else may have landed: 504 and 500, a proxy's 5xx or 52x page (no JSON error), a broken
 * connection (status 0), Unsure, and every wallet error (the wallet may have sent it),
 * except NotSent: the page stopped before asking the wallet to send anything.
 */
export function refused(error) {
  if (error instanceof NotSent) return true;
  if (!(error instanceof ApiError) || !error.fromSite) return false;
  return (error.status >= 400 && error.status < 500) || error.status === 502 || error.status === 503;
}

/** fetch JSON from this site; a non-2xx answer throws its "error" text. */
export async function api(path, body = undefined) {
  // The page's language for the site's error messages: fetch sends no cookie (credentials
  // "omit"), so the language chosen with the switch is said here.
  const headers = typeof document === "undefined" ? {} : { "Accept-Language": document.documentElement.lang || "en" };
  const init = body === undefined ? { headers } : {
    method: "POST",
    headers: { ...headers, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  let response;
  try {
    response = await fetch(path, { ...init, credentials: "omit", cache: "no-store" });
  } catch {
    throw new ApiError(t("siteUnreachable"), 0);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const fromSite = typeof data?.error === "string";
    throw new ApiError(fromSite ? data.error : t("siteAnswered", { status: response.status }), response.status, fromSite);
  }
  return data;
}

/** An error about one field: `busy` ties it to that field (a selector or the element). */
export class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

/**
 * Enable the submit buttons of forms whose handlers are now attached. The pages ship them
 * disabled (and their fields without `name`), so that pressing one before the script has
 * loaded, or with JavaScript off, cannot send anything. The browser's own validation bubbles
 * are turned off for those forms: `busy` checks the fields and says what is wrong in the
 * form's error paragraph, tied to the field (aria-invalid, aria-describedby, focus).
 */
export function ready(...buttons) {
  for (const button of buttons) {
    if (!button) continue;
    button.disabled = false;
    const form = button.form;
    if (form && !form.noValidate) {
      form.noValidate = true;
      form.addEventListener("input", (event) => unmark(event.target));
      form.addEventListener("change", (event) => unmark(event.target));
    }
  }
}

/** The first field of `form` that its constraints (required, min, maxlength...) refuse. */
function invalidField(form) {
  const field = [...form.elements].find((e) => e.willValidate && !e.checkValidity());
  if (!field) return null;
  const label = field.labels?.[0]?.textContent.trim().replace(/\s+/g, " ");
  return new FieldError(field, label ? `${label}: ${field.validationMessage}` : field.validationMessage);
}

/** Mark `field` invalid, described by the form's error paragraph, and move the focus to it. */
export function markInvalid(field, errorArea) {
  const node = typeof field === "string" ? $(field) : field;
  if (!node) return;
  node.setAttribute("aria-invalid", "true");
  if (errorArea?.id) {
    const ids = (node.getAttribute("aria-describedby") ?? "").split(/\s+/).filter(Boolean);
    if (!ids.includes(errorArea.id)) node.setAttribute("aria-describedby", [...ids, errorArea.id].join(" "));
    node.dataset.describedByError = errorArea.id;
  }
  node.focus();
}

function unmark(node) {
  if (!node?.hasAttribute?.("aria-invalid")) return;
  node.removeAttribute("aria-invalid");
  const added = node.dataset.describedByError;
  if (added) {
    const ids = (node.getAttribute("aria-describedby") ?? "").split(/\s+/).filter((id) => id && id !== added);
    if (ids.length) node.setAttribute("aria-describedby", ids.join(" "));
    else node.removeAttribute("aria-describedby");
    delete node.dataset.describedByError;
  }
}

/**
 * Busy state for a form while an async step runs: disables the button, reports errors. The
 * form's fields are checked first; an error about one field (FieldError) is tied to it.
 */
export async function busy(button, errorArea, work) {
  const form = button.form;
  for (const node of form ? [...form.elements] : []) unmark(node);
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  say(errorArea, "");
  try {
    const bad = form ? invalidField(form) : null;
    if (bad) throw bad;
    return await work();
  } catch (error) {
    say(errorArea, error?.message ?? String(error));
    if (error instanceof FieldError) markInvalid(error.field, errorArea);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** Offer text as a file download, made in the browser. */
export function download(filename, text, type = "text/plain") {
  const url = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }));
  const link = el("a", null, { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function copyText(text, statusArea) {
  try {
    await navigator.clipboard.writeText(text);
    say(statusArea, t("copied"));
  } catch {
    say(statusArea, t("copyNotAllowed"));
  }
}

export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return t("durationDays", { d, h });
  if (h) return t("durationHours", { h, m });
  return t("durationMinutes", { m, s: s % 60 });
}
