/* haywire: snapshots of guest RAM as page hashes, and the diff of two of them.
 *
 * A snapshot holds, for every 4 KiB page of RAM, its content hash (XXH3-64; zero pages
 * and holes marked), the moment it was taken (epoch, run state, QEMU's STOP time), the
 * RAM map, and, for a Linux guest, the processes and every page they map (pid, VA),
 * so that a diff can name whose memory a changed page was. The file format is in
 * docs/snapshots.md. */
#pragma once

#include <glib.h>
#include <haywire/physmem.h>
#include <haywire/owners.h>
#include <haywire/guest.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _HwSnapshot HwSnapshot;

/* A process's mapping of one page, as the snapshot keeps it. */
typedef struct {
  guint64 gpa;           /* the page */
  guint64 va;
  gint32 pid;
} HwSnapshotOwner;

/* Take a snapshot of MEM now (the caller has paused the guest for one consistent
 * moment): hashes on N_THREADS threads (0: one per core), and with OWNERS (may be NULL)
 * the processes' pages; METADATA (borrowed, may be NULL) is stored as it is (epoch, run
 * state, events, registers: the caller's JSON object). The caller owns the result. */
HwSnapshot *hw_snapshot_take(const HwPhysMem *mem, const HwOwnerMap *owners,
                             JsonObject *metadata, guint n_threads, GError **error);
/* Also keep the pages of MEM (zstd-compressed) in S, so that it can be read without the
 * VM: the guest must still be paused since hw_snapshot_take; a page that no longer
 * matches its hash is HW_ERROR_FAILED, memory that vanished HW_ERROR_GONE. */
gboolean hw_snapshot_add_data(HwSnapshot *s, const HwPhysMem *mem, guint n_threads,
                              GError **error);
/* Whether S holds the pages (saved with --data). */
gboolean hw_snapshot_has_data(const HwSnapshot *s);
/* Guest RAM restored from S's pages (the caller owns it), each page checked against its
 * hash; HW_ERROR_UNSUPPORTED without page data, HW_ERROR_FAILED when damaged (NAME for
 * messages). */
HwPhysMem *hw_snapshot_restore_memory(const HwSnapshot *s, const char *name, guint n_threads,
                                      GError **error);
/* A guest model of S's moment, for reading it without the VM (caller owns): RAM restored
 * as hw_snapshot_restore_memory does, registers and epoch from the metadata. */
HwGuest *hw_snapshot_open_guest(const HwSnapshot *s, const char *name, guint n_threads,
                                GError **error);
/* Write S to PATH (a new file replaces it only once complete). */
gboolean hw_snapshot_save(const HwSnapshot *s, const char *path, GError **error);
/* Read the snapshot at PATH: every length and offset checked against the file, and the
 * whole file against its checksum; a damaged or truncated file is HW_ERROR_FAILED with
 * what is wrong. The caller owns the result. */
HwSnapshot *hw_snapshot_load(const char *path, GError **error);
/* Like hw_snapshot_load, from SIZE bytes at D (NAME for messages). */
HwSnapshot *hw_snapshot_parse(const guint8 *d, gsize size, const char *name, GError **error);
/* Free. */
void hw_snapshot_free(HwSnapshot *s);
/* The RAM ranges (borrowed). */
const HwRamRange *hw_snapshot_get_ranges(const HwSnapshot *s, guint *n);
/* The page hashes of range I (borrowed; one per page). */
const guint64 *hw_snapshot_get_hashes(const HwSnapshot *s, guint i);
/* The stored metadata (borrowed). */
JsonObject *hw_snapshot_get_metadata(const HwSnapshot *s);
/* The processes owning the page at GPA, from the snapshot (a new array of
 * HwSnapshotOwner, caller owns; sorted by pid and VA). */
GArray *hw_snapshot_owners(const HwSnapshot *s, guint64 gpa);

typedef enum {
  HW_PAGE_CHANGED,       /* data before and after, different */
  HW_PAGE_APPEARED,      /* zero or hole before, data after */
  HW_PAGE_VANISHED,      /* data before, zero or hole after */
} HwPageChange;

/* One page that differs. */
typedef struct {
  guint64 gpa;
  HwPageChange change;
} HwPageDiff;

/* The pages that differ from A to B, by gpa (a new array of HwPageDiff, caller owns).
 * Zero pages and holes read the same (zeros) and never differ. A and B must have the
 * same RAM map: else HW_ERROR_INVALID_ARGUMENT. */
GArray *hw_snapshot_diff(const HwSnapshot *a, const HwSnapshot *b, GError **error);
/* "changed", "appeared" or "vanished". */
const char *hw_page_change_name(HwPageChange change);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwSnapshot, hw_snapshot_free)

G_END_DECLS
