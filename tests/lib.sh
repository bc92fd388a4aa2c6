# shellcheck shell=bash
# Shared helpers for snapmgr's shell tests (host and VM), in the spirit of
# lvm2's test/lib/aux and nbdkit's functions.sh. Source it first:
#     . "$(dirname "$0")/../lib.sh"
# Every dm device and loop file a test makes carries $PREFIX, so leftovers are
# detected (tests/vm/run-group checks after each test) and removed on EXIT.
#
# Idioms that cannot pass vacuously (see STYLE.md, "Test idioms that cannot lie"):
#   must_get VAR CMD...                 not VAR=$(must CMD...), whose exit is lost
#   expect_fail WHAT REASON CMD...      a refusal, and that it says why
#   not CMD...                          a failure that is no crash (lvm2's not)
#   no_match WHAT PATTERN CONTROL CMD...  a negative search with a positive control
#   at_exit CMD                         cleanup, instead of trapping EXIT
# and finish at the end: a test without assertions or without finish fails.
set -u

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CHECKOUT=$(dirname "$TESTS_DIR")
BUILD=${SNAPMGR_BUILD_DIR:-$CHECKOUT/build}
SNAPCTL=${SNAPCTL:-$BUILD/cli/snapctl}
TEST_NAME=$(basename "$0" .test)
PREFIX=${TEST_PREFIX:-snaptest}
failures=0
checks=0
_finished=0
_at_exit=()

# Scratch space on a tmpfs the guest owns (never the 9p share).
TEST_DIR=$(mktemp -d "${TEST_SCRATCH:-/run}/$PREFIX-$TEST_NAME.XXXXXX")

# TEST_PROFILE=1: every log and assertion line starts with the test's
# seconds so far, to see where a slow test spends them (under emulation,
# most tests are dominated by a few steps).
_at() { if [ "${TEST_PROFILE:-0}" = 1 ]; then printf '[%4ds] ' "$SECONDS"; fi; }
log() { _at; printf '# %s\n' "$*"; }

# Assertions. Every one counts in $checks and returns non-zero when it
# failed; a test that made none fails, and so does one that ends without
# calling finish (see _on_exit).

# check "what" COMMAND... : one assertion; prints ok/FAIL and keeps going.
check() {
	local what=$1
	shift
	checks=$((checks + 1))
	if "$@"; then
		_at; printf '  ok   %s\n' "$what"
	else
		_at; printf '  FAIL %s\n' "$what"
		failures=$((failures + 1))
		return 1
	fi
}

# expect_eq "what" EXPECTED ACTUAL
expect_eq() {
	checks=$((checks + 1))
	if [ "$2" = "$3" ]; then
		_at; printf '  ok   %s (%s)\n' "$1" "$3"
	else
		_at; printf '  FAIL %s: expected [%s], got [%s]\n' "$1" "$2" "$3"
		failures=$((failures + 1))
		return 1
	fi
}

# _exit_meaning RC: why a non-zero exit is not a failure of the command's
# own choosing (126: could not run, 127: not found, >128: killed by signal
# RC-128), or nothing when it is one (1..125).
_exit_meaning() {
	if [ "$1" -gt 128 ]; then
		echo "killed by signal $(($1 - 128)) ($(kill -l "$(($1 - 128))" 2>/dev/null))"
	elif [ "$1" -ge 126 ]; then
		echo "could not be run (exit $1)"
	fi
}

# not COMMAND...: like lvm2's `not`: true when COMMAND failed on its own
# (exit 1..125); false when it succeeded, died of a signal (a segfault is
# no refusal) or could not be run. For conditions such as
# `check "gone" not alive PID`; a refusal uses expect_fail with its reason.
not() {
	local rc why
	"$@"
	rc=$?
	[ "$rc" -eq 0 ] && return 1
	why=$(_exit_meaning "$rc")
	if [ -n "$why" ]; then
		printf '  # not: %s: %s\n' "$*" "$why"
		return 1
	fi
	return 0
}

# expect_fail "what" REASON COMMAND...: a refusal. COMMAND must fail on its
# own (as with `not`) and say why: its stdout+stderr must match REASON, an
# extended regular expression (grep -E). A failure for another reason is a
# failed check: the reason is what a refusal test is about. The output stays
# in $EXPECT_FAIL_OUT for further checks.
EXPECT_FAIL_OUT=$TEST_DIR/.expect-fail.out
expect_fail() {
	local what=$1 reason=$2 rc why out=$EXPECT_FAIL_OUT
	shift 2
	checks=$((checks + 1))
	if [ -z "$reason" ]; then
		printf '  FAIL %s: expect_fail needs the reason it expects\n' "$what"
		failures=$((failures + 1))
		return 1
	fi
	"$@" >"$out" 2>&1
	rc=$?
	why=$(_exit_meaning "$rc")
	if [ "$rc" -eq 0 ]; then
		printf '  FAIL %s: succeeded, should have failed\n' "$what"
	elif [ -n "$why" ]; then
		printf '  FAIL %s: %s\n' "$what" "$why"
	elif ! grep -qE -- "$reason" "$out"; then
		printf '  FAIL %s: exit %s, but not for the reason /%s/: %s\n' "$what" "$rc" \
			"$reason" "$(head -c 300 "$out" | tr '\n' ' ')"
	else
		printf '  ok   %s (exit %s: %s)\n' "$what" "$rc" "$(grep -m 1 -E -- "$reason" "$out")"
		return 0
	fi
	failures=$((failures + 1))
	return 1
}

# dm_absent "what" NAME: the dm device NAME does not exist, as dmsetup
# itself says (not merely "dmsetup failed").
dm_absent() {
	expect_fail "$1" "Device does not exist" dmsetup info "$2"
}

# no_match "what" PATTERN CONTROL COMMAND...: no line of COMMAND's output
# matches PATTERN (grep -E). A negative search proves something only if it
# looked at the right thing: as a positive control, some line must match
# CONTROL (e.g. a line the same log always has), else the check fails.
no_match() {
	local what=$1 pattern=$2 control=$3 out=$TEST_DIR/.no-match.out
	shift 3
	checks=$((checks + 1))
	"$@" >"$out" 2>&1
	if ! grep -qE -- "$control" "$out"; then
		printf '  FAIL %s: the control /%s/ is not in the output of %s, so its absence of /%s/ proves nothing\n' \
			"$what" "$control" "$*" "$pattern"
	elif grep -qE -- "$pattern" "$out"; then
		printf '  FAIL %s: found /%s/: %s\n' "$what" "$pattern" "$(grep -m 1 -E -- "$pattern" "$out")"
	else
		printf '  ok   %s (control: %s)\n' "$what" "$(grep -m 1 -E -- "$control" "$out" | cut -c1-100)"
		return 0
	fi
	failures=$((failures + 1))
	return 1
}

# A setup step that must work, or the test cannot go on: stop with a failure.
# Never inside $(...): the exit would leave only the subshell and the test
# would go on with an empty value; use must_get. Should it happen anyway, a
# mark in TEST_DIR makes the test fail at its end.
must() {
	if ! "$@"; then
		if [ "$BASH_SUBSHELL" -gt 0 ]; then
			printf '  FAIL setup (in a subshell: use must_get): %s\n' "$*" >&2
			printf '%s\n' "$*" >>"$TEST_DIR/.setup-failed"
		else
			printf '  FAIL setup: %s\n' "$*"
		fi
		exit 1
	fi
}

# must_get VAR COMMAND...: VAR=$(COMMAND...) in this shell; a failure of
# COMMAND stops the test (which `VAR=$(must COMMAND...)` cannot do).
must_get() {
	local _must_var=$1 _must_out
	shift
	if ! _must_out=$("$@"); then
		printf '  FAIL setup: %s\n' "$*"
		exit 1
	fi
	printf -v "$_must_var" '%s' "$_must_out"
}

# finish: call last; exit status says whether every check passed.
finish() {
	_finished=1
	if [ -e "$TEST_DIR/.setup-failed" ]; then
		echo "  FAIL a setup step failed in a subshell: $(tr '\n' ' ' <"$TEST_DIR/.setup-failed")"
		exit 1
	fi
	if [ "$checks" -eq 0 ]; then
		echo "  FAIL no assertion was made"
		exit 1
	fi
	[ "$failures" -eq 0 ] || { echo "# $failures of $checks checks failed"; exit 1; }
	echo "# all $checks checks passed"
	exit 0
}

# fault_point_sampled N: whether a crash test tries fault point N in this
# run. Every point is tried against the fake kernel on every run (unit test
# test-fault-matrix, in milliseconds); under emulation a point costs half a
# minute, so the VM tests, which confirm the fake against the real kernel,
# try every third point (1, 4, 7, ...) unless --long (TEST_LONG=1) asks for
# all. TEST_FAULT_STRIDE and TEST_FAULT_OFFSET choose another sample, e.g.
# to re-run a failing point alone.
fault_point_sampled() {
	[ "${TEST_LONG:-0}" = 1 ] && return 0
	[ $((($1 - 1) % ${TEST_FAULT_STRIDE:-3})) -eq "${TEST_FAULT_OFFSET:-0}" ]
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

# sha DEV [MB [SKIP_MB]]: a checksum of a device or a part of it. MD5: the
# tests compare contents, never against an adversary, and under emulation
# md5sum hashes 32 MiB in half the time sha256sum takes (measured in the
# guest, 1.5 s against 4.2 s); the VM tests use it everywhere. Buffers are
# flushed first: the same blocks may have been written through another
# device (dm on top of a loop device), whose cache this one cannot see.
sha() {
	blockdev --flushbufs "$1" 2>/dev/null
	if [ $# -ge 2 ]; then
		dd if="$1" bs=1M count="$2" skip="${3:-0}" status=none | md5sum | cut -d' ' -f1
	else
		md5sum <"$1" | cut -d' ' -f1
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

# at_exit COMMAND: run COMMAND (a string for eval) when the test exits, before
# the common teardown; the last registered runs first.
at_exit() { _at_exit+=("$1"); }

# The one EXIT trap (tests register their cleanup with at_exit instead of
# trapping EXIT themselves): cleanup, then the verdict. A test that exits 0
# without having called finish made no verdict of its own: a failure.
_on_exit() {
	local rc=$? i
	for ((i = ${#_at_exit[@]} - 1; i >= 0; i--)); do
		eval "${_at_exit[$i]}"
	done
	if [ "$rc" -eq 0 ] && [ -e "$TEST_DIR/.setup-failed" ]; then
		echo "  FAIL a setup step failed in a subshell: $(tr '\n' ' ' <"$TEST_DIR/.setup-failed")"
		rc=1
	fi
	if [ "$rc" -eq 0 ] && [ "$_finished" != 1 ]; then
		echo "  FAIL the test ended without calling finish"
		rc=1
	fi
	_teardown
	exit "$rc"
}
trap _on_exit EXIT
# Killed (a timeout in run-group, ^C): exit with the signal's status, so the
# EXIT trap reports a failure, not a test that forgot to finish.
trap 'exit 143' TERM
trap 'exit 130' INT
