#!/usr/bin/env bash
# Run the real-world config corpus (`check.sh BIN`, which calls
# `BIN --check FILE` on each config and compares with the original's
# verdict).  Configs listed in tests/corpus-pending.txt need a feature
# that is not built yet; they must still fail, so the list stays true.
# Usage: tests/corpus.sh BIN   (corpus dir: $PX_CORPUS or ../shared/corpus)
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
corpus=${PX_CORPUS:-$here/../shared/corpus}
pending=$here/tests/corpus-pending.txt

if [ ! -x "$corpus/check.sh" ]; then
	echo "corpus: $corpus/check.sh not found; skipped"
	exit 0
fi
out=$("$corpus/check.sh" "$bin")
echo "$out" | tail -n 1
status=0
while IFS= read -r line; do
	case $line in *" passed, "*" failed") continue ;; esac
	name=${line%%:*}
	if grep -q "^$name" "$pending" 2>/dev/null; then
		echo "pending: $line"
	else
		echo "FAIL: $line"
		status=1
	fi
done <<<"$out"
# A pending config that now passes must leave the list.
while IFS= read -r entry; do
	name=${entry%% *}
	case $name in ''|'#'*) continue ;; esac
	if ! grep -q "^$name:" <<<"$out"; then
		echo "FAIL: $name passes now: remove it from tests/corpus-pending.txt"
		status=1
	fi
done <"$pending"
exit $status
