// Small DOM and network helpers shared by the pages. User-written text is only ever set
// with textContent; nothing is parsed as HTML.

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

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** An attempt whose outcome is not known (no answer came back). */
export class Unsure extends Error {}

/**
 * Was a send refused for certain, so nothing was recorded? True for the server's own
 * refusals (4xx, 503 relayer off) and for a wallet's refusal; false when no answer came
 * (network down: status 0; 500, 502, 504: the send may have gone through) or Unsure.
 */
export function refused(error) {
  if (error instanceof Unsure) return false;
  if (error instanceof ApiError) return error.status >= 400 && ![500, 502, 504].includes(error.status);
  return true;
}

/** fetch JSON from this site; a non-2xx answer throws its "error" text. */
export async function api(path, body = undefined) {
  const init = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  let response;
  try {
    response = await fetch(path, { ...init, credentials: "omit", cache: "no-store" });
  } catch {
    throw new ApiError("the site cannot be reached; check your connection and try again", 0);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new ApiError(data?.error ?? `the site answered ${response.status}`, response.status);
  }
  return data;
}

/** Busy state for a form while an async step runs: disables the button, reports errors. */
export async function busy(button, errorArea, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  say(errorArea, "");
  try {
    return await work();
  } catch (error) {
    say(errorArea, error?.message ?? String(error));
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
    say(statusArea, "Copied.");
  } catch {
    say(statusArea, "Copying is not allowed here: select the text and copy it yourself.");
  }
}

export function formatDate(unix) {
  return new Date(unix * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  return `${m} min ${s % 60} s`;
}
