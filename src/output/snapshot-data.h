/* Inside the snapshot code: the `--data` section, the pages themselves in zstd frames
 * (layout in docs/snapshots.md). */
#pragma once

#include <haywire/physmem.h>

/* Pages per zstd frame: 1 MiB of data pages, enough for zstd to find repeats, small
 * enough to spread a restore over every core. */
#define HW_SNAPSHOT_BLOCK_PAGES 256u

/* The data section for the pages of MEM that HASHES (one guint64 array per range of
 * RANGES) call data, compressed on N_THREADS threads (0: one per core); the caller
 * owns it. The guest must not run between hashing and packing. */
GBytes *hw_snapshot_data_pack(const HwPhysMem *mem, const HwRamRange *ranges, guint n_ranges,
                              GPtrArray *hashes, guint n_threads, GError **error);
/* Check the data section's layout against the N_DATA data pages the hashes count
 * (nothing decompressed); WHY (static) says what is wrong. */
gboolean hw_snapshot_data_check(GBytes *section, guint64 n_data, const char **why);
/* Decompress SECTION (checked) into IMAGE, where range i of RANGES starts at the sum of
 * the sizes before it, checking every page against its hash; WHY (static) as above. */
gboolean hw_snapshot_data_unpack(GBytes *section, const HwRamRange *ranges, guint n_ranges,
                                 GPtrArray *hashes, guint8 *image, guint n_threads,
                                 const char **why);
