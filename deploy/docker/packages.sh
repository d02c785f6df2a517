#!/usr/bin/env bash
# Prints the Debian packages of a package list, one per line, read the way
# scripts/setup reads scripts/packages.txt: '#' starts a comment, white space
# and empty lines are ignored. Packages named in EXCLUDE (same format) are left
# out. The Dockerfile installs what this prints, and tests/deploy checks it.
#   deploy/docker/packages.sh LIST [EXCLUDE]
set -euo pipefail

(($# == 1 || $# == 2)) || {
  echo "usage: packages.sh LIST [EXCLUDE]" >&2
  exit 2
}

read_list() {
  local line
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%%#*}
    line=${line//[[:space:]]/}
    [[ -n $line ]] && printf '%s\n' "$line"
  done <"$1"
}

declare -A excluded=()
if (($# == 2)); then
  while IFS= read -r package; do excluded[$package]=1; done < <(read_list "$2")
fi
while IFS= read -r package; do
  [[ -z ${excluded[$package]:-} ]] && printf '%s\n' "$package"
done < <(read_list "$1")
exit 0
