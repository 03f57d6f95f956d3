#!/usr/bin/env bash
# Put the offline solc (npm `solc` behind tools/solcjs-shim.cjs) where py-solc-x and
# ape-solidity look for solc, unless a native solc of that version is already there.
set -euo pipefail
version=${1:?usage: install-solc-shim.sh VERSION}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${SOLCX_BINARY_PATH:-$HOME/.solcx}
target="$dir/solc-v$version"
mkdir -p "$dir"
if [[ -e $target ]] && ! grep -qs "spartacus solcjs shim" "$target"; then
  echo "solc $version already installed at $target (native); leaving it"
  exit 0
fi
tmp=$(mktemp "$dir/.solc-shim.XXXXXX")
cat >"$tmp" <<SH
#!/bin/sh
# spartacus solcjs shim: written by make install, rewritten on every run
exec node "$root/tools/solcjs-shim.cjs" "\$@"
SH
chmod 755 "$tmp"
mv -f "$tmp" "$target"
"$target" --version | grep -q "Version: $version" || { echo "shim at $target does not answer $version" >&2; exit 1; }
echo "offline solc $version installed at $target"
