#!/usr/bin/env bash
# A user's plain release build must not stop on a warning: configures the
# project as the README's release build does (in a temp dir), checks that no
# compile command carries -Werror, then compiles the file GCC 12 once warned
# about (-Wrestrict at -O3) with that build's flags plus -Werror, to show the
# code itself is clean too. Exits non-zero with the reason.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/chat-release-flags.XXXXXX")
trap 'rm -rf "$dir"' EXIT

cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
commands="$dir/compile_commands.json"
[[ -f $commands ]] || { echo "release_flags: no $commands" >&2; exit 1; }
if grep -q -- '-Werror' "$commands"; then
  echo "release_flags: a release build treats warnings as errors:" >&2
  grep -m3 -o '"command": "[^"]*-Werror[^"]*' "$commands" >&2
  exit 1
fi
# The release build's own command for resp.cpp (jq is in scripts/packages.txt).
entry=$(jq -c '[.[] | select(.file | endswith("tests/support/resp.cpp"))][0]' "$commands")
[[ $entry != null ]] || { echo "release_flags: resp.cpp is not in the release build" >&2; exit 1; }
command=$(jq -r .command <<<"$entry")
directory=$(jq -r .directory <<<"$entry")
mkdir -p "$directory"
if ! (cd "$directory" && eval "$command -Werror") 2>"$dir/warnings"; then
  echo "release_flags: tests/support/resp.cpp warns in a release build:" >&2
  cat "$dir/warnings" >&2
  exit 1
fi
echo "release_flags: release build has no -Werror, and resp.cpp compiles clean with it"
