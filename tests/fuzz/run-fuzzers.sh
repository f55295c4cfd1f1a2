#!/usr/bin/env bash
# Fuzz every harness (or those named) for a while, one at a time, with the
# libFuzzer binaries of a 3PROXY_FUZZ=ON build:
#   tests/fuzz/run-fuzzers.sh [-b BUILD_DIR] [-t SECONDS] [-w WORK_DIR] [NAME...]
# The seed corpus is copied into WORK_DIR/NAME/ and grows there; crash,
# leak and timeout inputs land in WORK_DIR/artifacts/NAME/.  The committed
# corpus is never written: copy a reproducer into tests/fuzz/corpus/NAME/
# (as crash-...) once the bug it shows is fixed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
build="$here/../../build-fuzz"
secs=120
work=/tmp/3proxy-fuzz
while getopts b:t:w: o; do
	case $o in
	b) build=$OPTARG ;;
	t) secs=$OPTARG ;;
	w) work=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -eq 0 ]; then
	set -- $(cd "$here" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fi

failed=0
for name in "$@"; do
	bin="$build/bin/fuzz/fuzz_$name"
	[ -x "$bin" ] || { echo "$bin: not built"; failed=1; continue; }
	mkdir -p "$work/$name" "$work/artifacts/$name"
	cp -n "$here/corpus/$name"/* "$work/$name/" 2>/dev/null
	echo "== $name ($secs s)"
	# -j1 and nice: the fuzzers share the machine; stdin is /dev/null so
	# no input can make a harness wait on the terminal.
	nice -n 10 "$bin" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/$name/" \
		"$work/$name" </dev/null >"$work/$name.log" 2>&1
	rc=$?
	tail -n 12 "$work/$name.log" | grep -E 'stat::number_of_executed_units|cov:' | tail -n 2
	if [ $rc -ne 0 ]; then
		echo "!! $name: exit $rc, see $work/$name.log"
		ls "$work/artifacts/$name/"
		failed=1
	fi
done
exit $failed
