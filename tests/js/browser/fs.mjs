// A browser stand-in for node:fs: the page puts the vector file's text in window.__files.
export function readFileSync(url) {
  const name = String(url).split("/").pop();
  const text = window.__files?.[name];
  if (text === undefined) throw new Error(`no file ${name} was given to the page`);
  return text;
}
