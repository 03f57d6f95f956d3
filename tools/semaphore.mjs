#!/usr/bin/env node
// Semaphore v4 identities and membership proofs for the CLI, offline (docs/protocol.md,
// "Membership groups"). The proving files come from the npm package
// @zk-kit/semaphore-artifacts at the ONE tree depth Spartacus supports (16), passed to the
// prover by path: its default loader would download them from a CDN.
//
//   node tools/semaphore.mjs identity                 -> {"backup", "commitment"} (a new identity)
//   node tools/semaphore.mjs identity --import CODE   -> the same for a backup code
//   node tools/semaphore.mjs prove < request.json     -> a Semaphore proof, as the contract takes it
//       request: {"backup", "members": ["<commitment>", ...], "scope", "message"}
//
// Numbers travel as decimal strings. Errors are {"error": "..."} on stdout with exit status 1.
// snarkjs keeps worker threads alive after proving: the script exits explicitly.
import { readFileSync } from "node:fs";
import process from "node:process";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { Identity } from "@semaphore-protocol/identity";
import { Group } from "@semaphore-protocol/group";
import { generateProof, verifyProof } from "@semaphore-protocol/proof";

export const DEPTH = 16;
const require = createRequire(import.meta.url);
const ARTIFACTS = dirname(require.resolve("@zk-kit/semaphore-artifacts/package.json"));
export const PROVING_FILES = {
  wasm: join(ARTIFACTS, `semaphore-${DEPTH}.wasm`),
  zkey: join(ARTIFACTS, `semaphore-${DEPTH}.zkey`),
};

function done(result, status = 0) {
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(status));
}

function importIdentity(code) {
  if (typeof code !== "string" || !/^[A-Za-z0-9+/]{43}=$/.test(code.trim())) {
    throw new Error("not an identity backup code (44 characters of base64)");
  }
  return Identity.import(code.trim());
}

function describe(identity) {
  return { backup: identity.export(), commitment: identity.commitment.toString() };
}

async function prove(request) {
  const identity = importIdentity(request.backup);
  const members = (request.members ?? []).map((m) => BigInt(m));
  const group = new Group(members);
  if (group.indexOf(identity.commitment) < 0) {
    throw new Error(`identity ${identity.commitment} is not a member of the group given`);
  }
  const proof = await generateProof(
    identity,
    group,
    BigInt(request.message),
    BigInt(request.scope),
    DEPTH,
    PROVING_FILES,
  );
  if (!(await verifyProof(proof))) throw new Error("the proof made does not verify");
  return {
    merkleTreeDepth: proof.merkleTreeDepth,
    merkleTreeRoot: proof.merkleTreeRoot.toString(),
    nullifier: proof.nullifier.toString(),
    message: proof.message.toString(),
    scope: proof.scope.toString(),
    points: proof.points.map((p) => p.toString()),
  };
}

async function main(args) {
  const [command, ...rest] = args;
  if (command === "identity") {
    const at = rest.indexOf("--import");
    return describe(at >= 0 ? importIdentity(rest[at + 1]) : new Identity());
  }
  if (command === "prove") return prove(JSON.parse(readFileSync(0, "utf8")));
  if (command === "files") return { depth: DEPTH, ...PROVING_FILES };
  throw new Error("usage: semaphore.mjs identity [--import CODE] | prove < request.json | files");
}

main(process.argv.slice(2)).then(
  (result) => done(result),
  (error) => done({ error: error.message ?? String(error) }, 1),
);
