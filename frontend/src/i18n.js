// The pages' words in English and Spanish (messages.js: one object per language, the
// same keys in each), chosen from <html lang>, which the server sets from the visitor's
// choice or browser (spartacus/web/i18n.py). Nothing is loaded from anywhere: the catalogue
// is bundled. `{name}` in a message is replaced by params.name. docs/web.md, "Languages",
// says how to add a language; tests/web/test_i18n.py checks both catalogues are complete.

import MESSAGES from "./messages.js";

export const LANGUAGES = Object.keys(MESSAGES);

/** The page's language if there is a catalogue for it, else English. */
export function lang() {
  const asked = typeof document === "undefined" ? "" : document.documentElement.lang;
  const base = String(asked || "en").toLowerCase().split("-")[0];
  return MESSAGES[base] ? base : "en";
}

/** The message `key` in the page's language, with `{name}` filled from `params`. */
export function t(key, params = {}) {
  const text = MESSAGES[lang()][key] ?? MESSAGES.en[key];
  if (text === undefined) throw new Error(`no message "${key}" in frontend/src/messages.js`);
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/**
 * A chain time as every page writes it: the locale's medium date and short time, in UTC
 * (the server writes the same with Babel: spartacus/web/i18n.py `when`).
 */
export function formatDate(unix) {
  const format = new Intl.DateTimeFormat(lang(), { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
  return t("utc", { date: format.format(new Date(unix * 1000)) });
}
