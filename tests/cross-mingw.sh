#!/usr/bin/env bash
# tests/cross-mingw.sh - keep the Windows code paths compiling.
#
# Cross-compiles the core (every src/*.c except os_posix.c and the
# OpenSSL backend tls_openssl.c and the unixODBC sink log_odbc.c, so
# with os_win32.c) and src/main.c with mingw-w64, warnings as errors, and
# links 3proxy.exe in a temporary directory, and builds the portable
# plugins as DLLs.  Every file is compiled even
# after a failure, so one run lists every broken file.  It also checks
# that Makefile.msvc64, which cannot glob, names exactly those sources.
#
# Run from anywhere:  bash tests/cross-mingw.sh
# Without the cross compiler it fails, unless SKIP_MINGW=1 is set.
# MINGW_CC overrides the compiler (default x86_64-w64-mingw32-gcc).
set -u

cd "$(dirname "$0")/.." || exit 1

cc=${MINGW_CC:-x86_64-w64-mingw32-gcc}
if ! command -v "$cc" >/dev/null 2>&1; then
	if [ "${SKIP_MINGW:-0}" = 1 ]; then
		echo "cross-mingw: $cc not found: skipped (SKIP_MINGW=1)"
		exit 0
	fi
	echo "cross-mingw: $cc not found; install gcc-mingw-w64-x86-64" \
	     "or set SKIP_MINGW=1 to skip this check" >&2
	exit 1
fi

cflags=(-std=gnu11 -D_GNU_SOURCE '-DPX_VERSION="1.0.0"'
	-Wall -Wextra -Wno-unused-parameter -Werror -Isrc)
libs=(-lws2_32 -ladvapi32)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/px-mingw.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

status=0
objs=()
srcs=()
for src in src/*.c; do
	[ "$src" = src/os_posix.c ] && continue
	# built only with OpenSSL (HAVE_OPENSSL), which this cross build lacks
	[ "$src" = src/tls_openssl.c ] && continue
	[ "$src" = src/tls_mitm_openssl.c ] && continue
	# built only with unixODBC (HAVE_ODBC): `log &DSN`
	[ "$src" = src/log_odbc.c ] && continue
	srcs+=("$src")
	obj=$tmp/$(basename "${src%.c}").o
	if "$cc" "${cflags[@]}" -c "$src" -o "$obj"; then
		objs+=("$obj")
	else
		echo "cross-mingw: FAILED to compile $src" >&2
		status=1
	fi
done

if [ "$status" = 0 ]; then
	if "$cc" -o "$tmp/3proxy.exe" "${objs[@]}" "${libs[@]}"; then
		echo "cross-mingw: built 3proxy.exe from ${#srcs[@]} sources"
	else
		echo "cross-mingw: FAILED to link 3proxy.exe" >&2
		status=1
	fi
fi

# The plugins Makefile.msvc64 builds as DLLs must compile for Windows.
for p in TrafficPlugin StringsPlugin utf8tocp1251 TransparentPlugin FilePlugin; do
	if "$cc" "${cflags[@]}" -shared -o "$tmp/$p.dll" plugins/$p/*.c \
	    "${libs[@]}"; then
		echo "cross-mingw: built $p.dll"
	else
		echo "cross-mingw: FAILED to build $p.dll" >&2
		status=1
	fi
done

# Makefile.msvc64 must list the same sources as obj\<name>.obj.
if [ -f Makefile.msvc64 ]; then
	want=$(for s in "${srcs[@]}"; do basename "${s%.c}"; done | sort)
	have=$(grep -o 'obj\\[A-Za-z0-9_]*\.obj' Makefile.msvc64 |
	       sed 's/^obj\\//; s/\.obj$//' | sort -u)
	if [ "$want" != "$have" ]; then
		echo "cross-mingw: Makefile.msvc64 is out of date" \
		     "(< in src/, > in Makefile.msvc64):" >&2
		diff <(echo "$want") <(echo "$have") | grep '^[<>]' >&2
		status=1
	fi
fi

if [ "$status" = 0 ]; then
	echo "cross-mingw: OK"
fi
exit "$status"
