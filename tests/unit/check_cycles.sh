#!/bin/bash
# No compilation unit of ours calls back into one that calls it, directly or round a longer
# loop (the "include circles" of issue 12: stage2.c calling back into main.c, elfdeps.c and
# tree.c into each other). An edge A -> B is a symbol A.o uses and B.o defines; tsort finds
# the loops. Usage: check_cycles.sh OBJECT...
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: check_cycles.sh OBJECT..." >&2; exit 2; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for o in "$@"; do
	nm -g --defined-only "$o" | awk -v o="$o" 'NF == 3 && $2 ~ /^[TDBR]$/ { print $3, o }'
done | sort -k1,1 > "$T/defs"
for o in "$@"; do
	nm -u "$o" | awk -v o="$o" 'NF { print $NF, o }'
done | sort -k1,1 > "$T/uses"
# symbol user definer
join "$T/uses" "$T/defs" | awk '$2 != $3' > "$T/calls"
if ! awk '{ print $2, $3 }' "$T/calls" | sort -u | tsort > /dev/null 2> "$T/loops"; then
	echo "check_cycles: these units call each other in a loop:" >&2
	sed -n 's/^tsort: \(.*\.o\)$/  \1/p' "$T/loops" | sort -u > "$T/members"
	cat "$T/members" >&2
	echo "through:" >&2
	awk 'NR == FNR { m[$1] = 1; next } ($2 in m) && ($3 in m) { print "  " $2 " -> " $3 " (" $1 ")" }' \
		"$T/members" "$T/calls" >&2
	exit 1
fi
echo "check_cycles: no loop of calls between $# compilation units"
