/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host tests' stand-in for the kernel: an in-memory device-mapper table
 * (lib/dm-fake.c), block devices and loop devices (lib/blockdev-fake.c),
 * linked in place of lib/dm.c, lib/blockdev.c and lib/loop.c. Never part of
 * libsnapmgr.
 *
 * Its state lives in one shared anonymous mapping, so that it survives a
 * forked child that crashes (exits) half-way through an operation, as the
 * kernel's tables survive a snapctl killed half-way.
 *
 * Faults, by the number of the state-changing step (dm create, reload,
 * suspend, resume, remove; loop attach, detach; COW header zeroing), read
 * from the environment at each step:
 *   SNAPMGR_FAKE_FAIL_AT=N      step N fails with EIO, changing nothing
 *   SNAPMGR_FAKE_CRASH_AFTER=N  the process exits (status 99) right after
 *                               step N took effect
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define FAKE_DM_MAJOR 253
#define FAKE_LOOP_MAJOR 7
#define FAKE_MAX_DM 16
#define FAKE_MAX_DISKS 4
#define FAKE_MAX_LOOPS 8
/* Metadata sectors of a fresh persistent COW: header + one area. */
#define FAKE_COW_METADATA 16

struct fake_table {
	bool set;
	char target[32];
	uint64_t length;
	char params[256];
};

struct fake_dm {
	bool used;
	char name[128];
	char uuid[130];
	unsigned minor;
	bool suspended;
	int open_count;
	bool remove_deferred;
	uint32_t event_nr;
	struct fake_table live, inactive;
	/* An era target's current era and held metadata snapshot. */
	uint32_t era;
	bool era_held;
};

struct fake_disk {
	bool used;
	char path[256];
	dev_t devnum;
	uint64_t size; /* bytes */
};

struct fake_loop {
	bool used;
	unsigned n; /* /dev/loopN */
	char file[256];
};

struct fake_state {
	struct fake_dm dm[FAKE_MAX_DM];
	unsigned next_minor;
	struct fake_disk disks[FAKE_MAX_DISKS];
	struct fake_loop loops[FAKE_MAX_LOOPS];
	unsigned steps;        /* state-changing steps so far */
	/* What a snapshot-merge device reports. */
	uint64_t merge_remaining; /* sectors still to copy back */
	bool merge_failed;
};

/* The shared state (mapped on first use). */
struct fake_state *fake_state(void);
/* Everything gone, as on a fresh host; the step count restarts. */
void fake_reset(void);
/* A reboot: dm devices and loop devices gone, disks and files stay. */
void fake_reboot(void);
int fake_add_disk(const char *path, dev_t devnum, uint64_t size);
struct fake_dm *fake_dm_find(const char *name);
/*
 * What a test compares between runs: devices by name and kind, tables
 * with their device numbers named, loops by backing file; sorted. free().
 */
char *fake_describe(void);

/* Internal to the fakes. */
int fake_step_begin(const char *what, const char *object);
void fake_step_end(void);
struct fake_dm *fake_dm_by_devnum(dev_t devnum);
struct fake_loop *fake_loop_by_devnum(dev_t devnum);
struct fake_disk *fake_disk_by_devnum(dev_t devnum);
/* Whether a live table other than exclude's uses devnum. */
bool fake_devnum_held(dev_t devnum, const struct fake_dm *exclude);
/* "dm:NAME", "loop:FILE", "disk:PATH" or "?M:m" for a device number. */
void fake_devnum_name(dev_t devnum, char *buf, size_t size);
