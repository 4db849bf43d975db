#!/usr/bin/env bash
# Removes lab namespaces (fglab-<id>-<role>) left behind by a crashed or killed run: their processes
# are killed and the namespaces deleted. A lab whose creator is still alive (pid and start time in
# /run/fglab/<id>.owner) is left alone, so running labs of other test runs are not disturbed;
# --all removes every lab namespace regardless. Run as root.
set -euo pipefail

all=0
case "${1:-}" in
  --all) all=1 ;;
  '') ;;
  *) echo "usage: $0 [--all]" >&2; exit 2 ;;
esac

owner_dir=/run/fglab

# True when the lab's owner file names a process that still runs with the recorded start time.
owner_alive() {
  local file="$owner_dir/$1.owner" pid start stat
  [ -r "$file" ] || return 1
  read -r pid start <"$file" || return 1
  [ -r "/proc/$pid/stat" ] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  # After the closing parenthesis come fields 3.. : the state (3; a zombie "Z" has ended) and the
  # start time (22, the 20th there).
  [ "$(echo "$stat" | awk '{print $1}')" != Z ] && [ "$(echo "$stat" | awk '{print $20}')" = "$start" ]
}

removed=0
# ip netns list complains about namespaces deleted while it runs (another cleanup, another lab).
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^fglab-' || true); do
  id=${ns#fglab-}
  id=${id%-*}
  if [ "$all" -eq 0 ] && owner_alive "$id"; then
    continue
  fi
  for pid in $(ip netns pids "$ns" 2>/dev/null); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  if ! ip netns del "$ns" 2>/dev/null; then
    # A concurrent cleanup may have removed it first; anything else is a real failure.
    [ -e "/run/netns/$ns" ] && { echo "cannot remove $ns" >&2; exit 1; }
    continue
  fi
  echo "removed $ns"
  removed=$((removed + 1))
done

if [ -d "$owner_dir" ]; then
  for file in "$owner_dir"/*.owner; do
    [ -e "$file" ] || continue
    id=$(basename "$file" .owner)
    if [ "$all" -eq 1 ] || ! owner_alive "$id"; then
      rm -f "$file"
    fi
  done
fi
echo "flockguard lab cleanup: $removed namespace(s) removed"
