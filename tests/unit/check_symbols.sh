#!/bin/bash
# Our libraries must not define a symbol that libcmocka exports: the unit tests link both,
# and the static definition silently replaces cmocka's own (libmeasure's cm_print_error did
# that to cmocka's internal printer, so a failed assertion crashed instead of printing).
# Usage: check_symbols.sh TEST_BINARY ARCHIVE...
set -euo pipefail
bin=$1; shift
cmocka=$(ldd "$bin" | awk '/libcmocka/ { print $3 }')
[ -n "$cmocka" ] && [ -r "$cmocka" ] || { echo "check_symbols: $bin does not link libcmocka" >&2; exit 1; }
clash=$(comm -12 <(nm -D --defined-only "$cmocka" | awk '{ print $3 }' | sort -u) \
	<(nm -g --defined-only "$@" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u))
if [ -n "$clash" ]; then
	echo "check_symbols: defined both by libcmocka ($cmocka) and by our libraries:" $clash >&2
	exit 1
fi
echo "check_symbols: no symbol of ours shadows libcmocka's ($(ls "$@" | wc -l) archives)"
