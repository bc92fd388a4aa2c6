# shellcheck shell=bash
# Shared helpers for snapmgr's shell tests (host and VM), in the spirit of
# lvm2's test/lib/aux and nbdkit's functions.sh. Source it first:
#     . "$(dirname "$0")/../lib.sh"
# Every dm device and loop file a test makes carries $PREFIX, so leftovers are
# detected (tests/vm/run-group checks after each test) and removed on EXIT.
set -u

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CHECKOUT=$(dirname "$TESTS_DIR")
BUILD=${SNAPMGR_BUILD_DIR:-$CHECKOUT/build}
SNAPCTL=${SNAPCTL:-$BUILD/cli/snapctl}
TEST_NAME=$(basename "$0" .test)
PREFIX=${TEST_PREFIX:-snaptest}
failures=0
checks=0

# Scratch space on a tmpfs the guest owns (never the 9p share).
TEST_DIR=$(mktemp -d "${TEST_SCRATCH:-/run}/$PREFIX-$TEST_NAME.XXXXXX")

log() { printf '# %s\n' "$*"; }

# check "what" COMMAND... : one assertion; prints ok/FAIL and keeps going.
check() {
	local what=$1
	shift
	checks=$((checks + 1))
	if "$@"; then
		printf '  ok   %s\n' "$what"
	else
		printf '  FAIL %s\n' "$what"
		failures=$((failures + 1))
	fi
}

# expect_eq "what" EXPECTED ACTUAL
expect_eq() {
	checks=$((checks + 1))
	if [ "$2" = "$3" ]; then
		printf '  ok   %s (%s)\n' "$1" "$3"
	else
		printf '  FAIL %s: expected [%s], got [%s]\n' "$1" "$2" "$3"
		failures=$((failures + 1))
	fi
}

# expect_fail "what" COMMAND...: the command must exit non-zero.
expect_fail() {
	local what=$1
	shift
	checks=$((checks + 1))
	if "$@" >/dev/null 2>&1; then
		printf '  FAIL %s: succeeded, should have failed\n' "$what"
		failures=$((failures + 1))
	else
		printf '  ok   %s (failed as it should)\n' "$what"
	fi
}

# A setup step that must work, or the test cannot go on: stop with a failure.
must() {
	if ! "$@"; then
		printf '  FAIL setup: %s\n' "$*"
		exit 1
	fi
}

# finish: call last; exit status says whether every check passed.
finish() {
	if [ "$checks" -eq 0 ]; then
		echo "  FAIL no assertion was made"
		exit 1
	fi
	[ "$failures" -eq 0 ] || { echo "# $failures of $checks checks failed"; exit 1; }
	echo "# all $checks checks passed"
	exit 0
}

# loop_dev SIZE_MB [NAME]: a loop device over a sparse file in TEST_DIR
# (detached on EXIT: teardown finds them by their backing files).
loop_dev() {
	local file
	file=$(mktemp "$TEST_DIR/${2:-loop}.XXXXXX.img") || return 1
	truncate -s "${1}M" "$file" || return 1
	losetup -f --show "$file"
}

# fill_random DEV MB [SEEK_MB]: random data, written through to the device.
fill_random() {
	dd if=/dev/urandom of="$1" bs=1M count="$2" seek="${3:-0}" oflag=direct conv=notrunc status=none
}

# sha DEV [MB [SKIP_MB]]: sha256 of a device or a part of it. Buffers are
# flushed first: the same blocks may have been written through another
# device (dm on top of a loop device), whose cache this one cannot see.
sha() {
	blockdev --flushbufs "$1" 2>/dev/null
	if [ $# -ge 2 ]; then
		dd if="$1" bs=1M count="$2" skip="${3:-0}" status=none | sha256sum | cut -d' ' -f1
	else
		sha256sum <"$1" | cut -d' ' -f1
	fi
}

dev_sectors() { blockdev --getsz "$1"; }

# dm_remove_prefixed: removes every dm device whose name starts with PREFIX,
# dependants first (snapshots, then origins, then the rest).
dm_remove_prefixed() {
	local pass name
	for pass in 1 2 3 4; do
		for name in $(dmsetup ls 2>/dev/null | awk -v p="$PREFIX" 'index($1, p) == 1 { print $1 }'); do
			dmsetup remove "$name" >/dev/null 2>&1
		done
	done
	# Our own tools may have made devices with other names in this test:
	# the test registers them in EXTRA_DM.
	for name in ${EXTRA_DM:-}; do
		dmsetup remove --retry "$name" >/dev/null 2>&1
	done
}

_teardown() {
	local dev
	dm_remove_prefixed
	for dev in $(losetup -n -O NAME,BACK-FILE 2>/dev/null | awk -v d="$TEST_DIR/" 'index($2, d) == 1 { print $1 }'); do
		losetup -d "$dev" 2>/dev/null
	done
	rm -rf "$TEST_DIR"
}
trap _teardown EXIT
