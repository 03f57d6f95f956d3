// Roster downloads made in the browser: CSV (RFC 4180) and vCard 3.0 (RFC 2426).
// Pure functions of the roster; the page turns them into Blob URLs.

/** One CSV field: quoted when needed; a leading =, +, - or @ is neutralised against
 * spreadsheet formula injection (a member's name is written by someone else). */
export function csvField(value) {
  let text = String(value ?? "");
  if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function rosterCsv(members) {
  const rows = [["index", "name", "contact", "message", "account"]];
  for (const m of members) rows.push([m.index, m.contact.name, m.contact.contact, m.contact.message, m.account]);
  return rows.map((row) => row.map(csvField).join(",")).join("\r\n") + "\r\n";
}

/** vCard text value: backslash, comma, semicolon and newlines escaped. */
export function vcardText(value) {
  return String(value ?? "")
    .replaceAll("\\", "\\\\")
    .replaceAll(",", "\\,")
    .replaceAll(";", "\\;")
    .replace(/\r\n|\r|\n/g, "\\n");
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[0-9 ().-]{6,}$/;

export function rosterVcard(members, campaignTitle) {
  const cards = members.map((m) => {
    const lines = ["BEGIN:VCARD", "VERSION:3.0", `FN:${vcardText(m.contact.name)}`, `N:${vcardText(m.contact.name)};;;;`];
    const contact = m.contact.contact.trim();
    if (EMAIL.test(contact)) lines.push(`EMAIL:${vcardText(contact)}`);
    else if (PHONE.test(contact)) lines.push(`TEL:${vcardText(contact)}`);
    const note = [`Spartacus: ${campaignTitle}`, `contact: ${contact}`, m.contact.message].filter(Boolean).join("\n");
    lines.push(`NOTE:${vcardText(note)}`, "END:VCARD");
    return lines.join("\r\n");
  });
  return cards.join("\r\n") + "\r\n";
}
