#!/usr/bin/env bash
# Install what the tests need (Debian packages, when run as root), build,
# and run the whole test suite:
#   1. a release build with warnings as errors (build/)
#   2. an ASan+UBSan build (build-asan/) on which every test runs
#   3. the cmocka unit tests
#   4. the pytest integration tests against the real binary on loopback
#   5. the real-world config corpus through `3proxy --check`
#   6. the Makefile.Linux build and a mingw-w64 cross build of the core
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
jobs=$(nproc 2>/dev/null || echo 2)

packages=(build-essential cmake pkg-config libcmocka-dev python3-pytest
	gcc-mingw-w64-x86-64 libcrypt-dev libmd-dev libssl-dev
	curl wget openssl proxychains4 python3-pyftpdlib python3-aiosmtpd bind9-dnsutils
	procps
	dante-server tinyproxy microsocks
	unixodbc-dev odbcinst libsqliteodbc sqlite3 libpam0g-dev
	libldap-dev slapd libpcre2-dev iproute2 iptables)

install_packages() {
	local missing=()
	for p in "${packages[@]}"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "== installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Some packages (dante-server, tinyproxy: peers for the parent tests;
	# slapd for LdapPlugin) would start system daemons; the tests start
	# their own instances.
	local policy=/usr/sbin/policy-rc.d made_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod +x "$policy"
		made_policy=1
	fi
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	[ $made_policy = 1 ] && rm -f "$policy"
	return 0
}

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	install_packages
fi

echo "== release build (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -D3PROXY_WERROR=ON >/dev/null
cmake --build build -j "$jobs"

echo "== ASan+UBSan build (build-asan/)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -D3PROXY_WERROR=ON \
	-D3PROXY_SANITIZE=address,undefined >/dev/null
cmake --build build-asan -j "$jobs"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo "== unit tests"
(cd build-asan && ctest --output-on-failure -j "$jobs")

echo "== integration tests"
PX_BIN="$here/build-asan/bin/3proxy" /usr/bin/python3 -m pytest -q \
	-p no:cacheprovider tests/integration

echo "== config corpus"
tests/corpus.sh build/bin/3proxy

echo "== Makefile.Linux build"
make -s -f Makefile.Linux clean >/dev/null
make -s -f Makefile.Linux -j "$jobs" >/dev/null
make -s -f Makefile.Linux clean >/dev/null

echo "== mingw-w64 cross build"
tests/cross-mingw.sh

echo "== all tests passed"
