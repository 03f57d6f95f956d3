// The join form's byte counter. A pledge's details are one JSON object padded to 256 bytes
// (protocol/payload.js encodeContact: at most 255 bytes of UTF-8 JSON), so the name, contact
// and message share one limit counted in bytes, not characters: "ñ" takes 2, an emoji 4, a
// quote 2 (escaped). Typing past the limit is stopped where it happens, and the counter says
// how many bytes are left.

import { PLEDGE_BLOCK, utf8 } from "./protocol/index.js";
import { t } from "./i18n.js";
import { $, say } from "./ui.js";

export const CONTACT_LIMIT = PLEDGE_BLOCK - 1;

/** The size of the JSON encodeContact seals for these details (join() trims the fields). */
export function contactBytes({ name, contact, message = "", mail = false }) {
  const fields = mail ? { name, contact, message, mail: true } : { name, contact, message };
  return utf8(JSON.stringify(fields)).length;
}

const FIELDS = ["#join-name", "#join-contact", "#join-message"];

function current() {
  const [name, contact, message] = FIELDS.map((id) => $(id).value.trim());
  const mail = Boolean($("#join-mail")?.checked && $("#join-mail-field")?.hidden === false);
  return { name, contact, message, mail };
}

/** Remove whole characters just before the caret (what was typed or pasted) until it fits. */
function trimToFit(field) {
  let value = field.value;
  let caret = field.selectionStart ?? value.length;
  const fits = () => {
    field.value = value;
    return contactBytes(current()) <= CONTACT_LIMIT;
  };
  while (value && !fits()) {
    const cut = caret > 0 ? caret : value.length;
    const chars = Array.from(value.slice(0, cut));
    const last = chars.pop();
    value = chars.join("") + value.slice(cut);
    caret = cut - last.length;
  }
  field.value = value;
  field.setSelectionRange?.(caret, caret);
}

function show() {
  const left = Math.max(0, CONTACT_LIMIT - contactBytes(current()));
  say($("#join-bytes"), left ? t("joinBytesLeft", { left, limit: CONTACT_LIMIT }) : t("joinBytesFull", { limit: CONTACT_LIMIT }));
}

/** Count (and stop) the join form's fields as they are typed in. */
export function countJoinBytes() {
  if (!$("#join-bytes")) return;
  for (const id of FIELDS) {
    $(id).addEventListener("input", (event) => {
      trimToFit(event.target);
      show();
    });
  }
  $("#join-mail")?.addEventListener("change", show);
  $("#join-form").addEventListener("reset", () => setTimeout(show));
  show();
}
