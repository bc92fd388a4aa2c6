# tests/vm/kernel-lib.sh: helpers for the kernel-*.test VM tests (our
# dm-snapshot module). Source it from bash; it must run inside tests/vm-run.
#
#   kt_init NAME            checks we are in the VM with our module, makes
#                           $KT_TMP, removes leftovers and cleans up on EXIT
#   kt_ok / kt_fail MSG     one line per check; kt_fail marks the test failed
#   kt_check MSG CMD...     ok if CMD succeeds
#   kt_eq MSG WANT GOT      ok if the strings are equal
#   kt_dev_pair SIZE_MB     sets KT_ORIGIN and KT_COW: two scratch devices of
#                           at least SIZE_MB (brd if vm-run loaded it, else loop)
#   kt_create NAME TABLE    dmsetup create without udev, node in /dev/mapper
#   kt_stat NAME KEY        value of KEY in "dmsetup message NAME 0 stats"
#   kt_done                 exits 0 if at least one check ran and every check
#                           passed, 1 otherwise
#
# Every dm device a test creates is named with $KT_PREFIX, so leftovers are
# found and removed.

set -u
export DM_DISABLE_UDEV=1

KT_PREFIX=kt-
KT_FAILED=0
KT_CHECKS=0
KT_LOOPS=()

kt_ok() {
	KT_CHECKS=$((KT_CHECKS + 1))
	echo "ok - $*"
}

kt_fail() {
	KT_CHECKS=$((KT_CHECKS + 1))
	KT_FAILED=$((KT_FAILED + 1))
	echo "FAIL - $*"
}

kt_check() {
	local msg=$1
	shift
	if "$@"; then kt_ok "$msg"; else kt_fail "$msg"; fi
}

kt_eq() {
	if [ "$2" = "$3" ]; then
		kt_ok "$1 ($3)"
	else
		kt_fail "$1: want '$2', got '$3'"
	fi
}

# A fatal error: the rest of the test cannot run.
kt_die() {
	kt_fail "$*"
	exit 1
}

kt_dm_remove_all() {
	local n
	for n in $(dmsetup ls 2>/dev/null | awk -v p="$KT_PREFIX" 'index($1, p) == 1 { print $1 }'); do
		dmsetup resume "$n" >/dev/null 2>&1
		dmsetup remove --noudevsync --retry "$n" >/dev/null 2>&1 ||
			echo "# could not remove $n" >&2
	done
}

kt_cleanup() {
	local rc=$? l
	kt_dm_remove_all
	for l in "${KT_LOOPS[@]}"; do
		losetup -d "$l" 2>/dev/null
	done
	[ -n "${KT_TMP:-}" ] && rm -rf "$KT_TMP"
	return $rc
}

kt_init() {
	KT_NAME=$1
	[ "${SNAPMGR_IN_VM:-0}" = 1 ] ||
		kt_die "$KT_NAME must run inside the VM: tests/vm-run -- tests/vm/$KT_NAME.test"
	KT_TMP=$(mktemp -d /var/tmp/kt.XXXXXX) || kt_die "mktemp failed"
	trap kt_cleanup EXIT
	kt_dm_remove_all
	# Our module reports a patchlevel of 1000 or more (patch 0001).
	local v
	v=$(dmsetup targets | awk '$1 == "snapshot" { print $2 }')
	case "$v" in
	v1.*.1[0-9][0-9][0-9]) kt_ok "snapmgr's dm-snapshot is loaded (snapshot $v)" ;;
	*) kt_die "snapshot target is '$v', not snapmgr's build (patchlevel >= 1000)" ;;
	esac
}

kt_done() {
	# A test that checked nothing proves nothing: the check that should
	# have run was skipped or the script went astray.
	if [ "$KT_CHECKS" -eq 0 ]; then
		echo "# $KT_NAME: no check ran"
		exit 1
	fi
	if [ "$KT_FAILED" -eq 0 ]; then
		echo "# $KT_NAME: all $KT_CHECKS checks passed"
		exit 0
	fi
	echo "# $KT_NAME: $KT_FAILED of $KT_CHECKS checks failed"
	exit 1
}

kt_loop() {
	local f=$KT_TMP/loop$1.img l
	truncate -s "$2"M "$f" || return 1
	l=$(losetup -f --show "$f") || return 1
	KT_LOOPS+=("$l")
	echo "$l"
}

kt_dev_pair() {
	local need=$(($1 * 2048))
	if [ -b /dev/ram0 ] && [ -b /dev/ram1 ] &&
		[ "$(blockdev --getsz /dev/ram0)" -ge "$need" ] &&
		[ "$(blockdev --getsz /dev/ram1)" -ge "$need" ]; then
		KT_ORIGIN=/dev/ram0
		KT_COW=/dev/ram1
	else
		KT_ORIGIN=$(kt_loop 0 "$1") || kt_die "losetup failed"
		KT_COW=$(kt_loop 1 "$1") || kt_die "losetup failed"
		# kt_loop ran in a subshell: remember the devices for cleanup.
		KT_LOOPS+=("$KT_ORIGIN" "$KT_COW")
	fi
}

kt_create() {
	dmsetup create --noudevsync "$1" --table "$2" || return 1
	dmsetup mknodes "$1"
	[ -b "/dev/mapper/$1" ]
}

kt_stat() {
	dmsetup message "$1" 0 stats | tr ' ' '\n' | sed -n "s/^$2=//p"
}

kt_sha() {
	md5sum <"$1" | cut -d' ' -f1
}
