# shellcheck shell=bash
# tests/vm/kernel-batch-lib.sh: helpers for the kernel-batch*.test VM tests
# (patch 6 and 7 of kernel/patches: bypassed writes held for the plug).
# Source it after tests/lib.sh, whose check/expect_eq/must/finish and
# $PREFIX-named teardown they use.
#
#   kb_init               checks our module is loaded, sets $ORIGIN_DEV and
#                         $COW_DEV (brd disks vm-run loads) and $OURS_KO
#   kb_create NAME TABLE  dmsetup create without udev, node in /dev/mapper
#   kb_remove NAME...     dmsetup remove, failing the test if one fails
#   kb_writes NAME        write requests the dm device NAME has completed
#   kb_stat NAME KEY      KEY's value in "dmsetup message NAME 0 stats"
#   kb_param NAME [VAL]   reads (or writes) dm_snapshot's module parameter
#   kb_load ours|stock [PARAM=VAL...]  swaps the dm-snapshot module in
#   kb_dsha DEV MB        MD5 of DEV's first MB MiB, read with O_DIRECT
#   kb_complaints         how many kernel warnings, oopses and hung-task
#                         reports dmesg holds (compare before and after a
#                         test: other tests of the boot leave their own)

export DM_DISABLE_UDEV=1
KB_PARAMS=/sys/module/dm_snapshot/parameters

kb_create() {
	dmsetup create --noudevsync "$1" --table "$2" || return 1
	dmsetup mknodes "$1"
	[ -b "/dev/mapper/$1" ]
}

kb_remove() {
	local n
	for n in "$@"; do
		dmsetup remove --noudevsync --retry "$n" ||
			check "remove $n" false
	done
}

kb_minor() { dmsetup info -c --noheadings -o minor "$1" | tr -d ' '; }

# Field 5 of /sys/block/dm-N/stat: write requests completed.
kb_writes() {
	local w
	read -r _ _ _ _ w _ <"/sys/block/dm-$(kb_minor "$1")/stat" || return 1
	echo "$w"
}

kb_stat() {
	dmsetup message "$1" 0 stats | tr ' ' '\n' | sed -n "s/^$2=//p"
}

kb_param() {
	if [ $# -ge 2 ]; then
		echo "$2" >"$KB_PARAMS/$1"
	else
		cat "$KB_PARAMS/$1"
	fi
}

kb_target_version() { dmsetup targets | awk '$1 == "snapshot" { print $2 }'; }

kb_load() {
	local which=$1
	shift
	if [ -d /sys/module/dm_snapshot ]; then
		rmmod dm_snapshot || return 1
	fi
	case "$which" in
	ours) insmod "$OURS_KO" "$@" ;;
	stock) modprobe dm-snapshot "$@" ;;
	esac
}

kb_dsha() {
	dd if="$1" bs=1M count="$2" iflag=direct status=none | md5sum | cut -d' ' -f1
}

kb_complaints() { dmesg | grep -cE 'WARNING:|BUG:|Oops|blocked for more than'; }

kb_init() {
	[ "${SNAPMGR_IN_VM:-0}" = 1 ] || { echo "$TEST_NAME must run inside the VM (tests/vm-run)"; exit 1; }
	# The module built for the running kernel (vm-run --kernel boots others).
	OURS_KO=$BUILD/kernel/$(uname -r)/dm-snapshot.ko
	[ -r "$OURS_KO" ] || OURS_KO=$BUILD/kernel/dm-snapshot.ko
	case "$(kb_target_version)" in
	v1.*.1[0-9][0-9][0-9]) ;;
	*) check "snapmgr's dm-snapshot is loaded ($(kb_target_version))" false; finish ;;
	esac
	# brd disks of 256 MiB (vm-run's default "rd_nr=4 rd_size=262144").
	ORIGIN_DEV=/dev/ram2
	COW_DEV=/dev/ram3
	must test -b "$ORIGIN_DEV"
	must test -b "$COW_DEV"
}
