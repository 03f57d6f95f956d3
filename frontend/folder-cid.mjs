// The IPFS CID of a folder, computed offline with ipfs-car's defaults: `ipfs-car pack` of
// the same files prints the same CID. Used by frontend/build.mjs for static/, and by
// `spartacus export-site` for the exported folder:
//   node frontend/folder-cid.mjs DIR [EXCLUDED...]   prints the CID of DIR's files (names
//                                                    relative to DIR; EXCLUDED left out)
import { Blob } from "node:buffer";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { WritableStream } from "node:stream/web";
import { fileURLToPath } from "node:url";
import { createDirectoryEncoderStream } from "ipfs-car";

/** Every file under `folder`, as paths. */
export function filesUnder(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** The CID of a folder holding `files` ({name, path}: name relative to the folder). The last
 * block the encoder emits is the root folder's. */
export async function folderCid(files) {
  const blobs = [...files]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ name, path }) => ({ name, stream: () => new Blob([readFileSync(path)]).stream() }));
  let root = null;
  await createDirectoryEncoderStream(blobs).pipeTo(
    new WritableStream({
      write(block) {
        root = block.cid;
      },
    }),
  );
  return root.toString();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [folder, ...excluded] = process.argv.slice(2);
  const files = filesUnder(folder)
    .map((path) => ({ name: relative(folder, path).split(sep).join("/"), path }))
    .filter(({ name }) => !excluded.includes(name));
  console.log(await folderCid(files));
}
