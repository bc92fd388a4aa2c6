/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * smdm_names_to_events(): reads the event numbers out of a DM_LIST_DEVICES
 * reply laid out as the kernel writes it (dm-ioctl.c, list_devices: the
 * name, then at the next 8-byte boundary the event number and a flags word,
 * then optionally the uuid; next is the offset of the following entry).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <libdevmapper.h>

#include "dm.h"

/* Appends one entry at byte offset *at of buf; returns the entry's offset. */
static size_t put_entry(unsigned char *buf, size_t *at, uint64_t dev,
			const char *name, uint32_t event_nr, const char *uuid)
{
	size_t start = *at, off;
	struct dm_names *nl = (struct dm_names *)(buf + start);
	uint32_t flags = uuid ? 1 /* DM_NAME_LIST_FLAG_HAS_UUID */ : 2;

	nl->dev = dev;
	nl->next = 0;
	strcpy(nl->name, name);
	off = offsetof(struct dm_names, name) + strlen(name) + 1;
	off = (off + 7) & ~(size_t)7; /* relative to an 8-aligned entry */
	memcpy(buf + start + off, &event_nr, 4);
	memcpy(buf + start + off + 4, &flags, 4);
	off += 8;
	if (uuid) {
		strcpy((char *)buf + start + off, uuid);
		off += strlen(uuid) + 1;
		off = (off + 7) & ~(size_t)7;
	}
	*at = start + off;
	return start;
}

static void link_entries(unsigned char *buf, const size_t *starts, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		((struct dm_names *)(buf + starts[i]))->next =
			(uint32_t)(starts[i + 1] - starts[i]);
}

static void test_entries_sorted_with_numbers(void **state)
{
	uint64_t storage[128] = {0}; /* 8-aligned, as the ioctl buffer is */
	unsigned char *buf = (unsigned char *)storage;
	struct snapmgr_dm_event **v = NULL;
	size_t at = 0, starts[4];

	/* Name lengths that land the number on and off a boundary. */
	starts[0] = put_entry(buf, &at, 0xfd00, "vg-snap", 7, "LVM-abcdef");
	starts[1] = put_entry(buf, &at, 0xfd01, "a", 0, NULL);
	starts[2] = put_entry(buf, &at, 0xfd02, "seven77", 4000000000u, NULL);
	starts[3] = put_entry(buf, &at, 0xfd03, "snapmgr-x-cow", 1, "SNAPMGR-cow-x");
	link_entries(buf, starts, 4);

	assert_int_equal(smdm_names_to_events((struct dm_names *)buf, &v), 0);
	assert_string_equal(v[0]->name, "a");
	assert_int_equal(v[0]->event_nr, 0);
	assert_string_equal(v[1]->name, "seven77");
	assert_int_equal(v[1]->event_nr, 4000000000u);
	assert_string_equal(v[2]->name, "snapmgr-x-cow");
	assert_int_equal(v[2]->event_nr, 1);
	assert_string_equal(v[3]->name, "vg-snap");
	assert_int_equal(v[3]->event_nr, 7);
	assert_null(v[4]);
	/* Each entry carries the library's size: a later one may be longer. */
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(v[i]->size, sizeof(struct snapmgr_dm_event));
	snapmgr_events_list_free(v);
}

static void test_empty_list(void **state)
{
	uint64_t storage[8] = {0};
	struct snapmgr_dm_event **v = (void *)1;

	/* The kernel's empty list: one entry whose dev is 0. */
	assert_int_equal(smdm_names_to_events((struct dm_names *)storage, &v), 0);
	assert_non_null(v);
	assert_null(v[0]);
	snapmgr_events_list_free(v);
	v = (void *)1;
	assert_int_equal(smdm_names_to_events(NULL, &v), 0);
	assert_null(v[0]);
	snapmgr_events_list_free(v);
	snapmgr_events_list_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries_sorted_with_numbers),
		cmocka_unit_test(test_empty_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
