/* haywire: guest-physical memory, mapped read-only from the memory-backend-file. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The unit scans, page classes and the overview work in: 4 KiB, the smallest page of
 * both arches (a guest with 16 KiB pages is seen four units per page). */
#define HW_PAGE_SIZE 4096u

/* One piece of guest RAM: guest-physical range and where it sits in the file. */
typedef struct {
  guint64 gpa;
  guint64 size;
  guint64 file_offset;
} HwRamRange;

typedef struct _HwPhysMem HwPhysMem;

/* Parse `info mtree -f` text: the ranges of the "memory" address space backed by REGION. */
GArray *hw_ram_map_parse_mtree(const char *mtree_text, const char *region, GError **error);

/* mmap PATH read-only and serve the ranges of RAM (sorted, non-overlapping, inside the file). */
HwPhysMem *hw_physmem_open(const char *path, const HwRamRange *ranges, guint n_ranges, GError **error);
/* Serve DATA (borrowed, SIZE bytes) as the memory file; for tests and synthetic guests. */
HwPhysMem *hw_physmem_new_from_data(const guint8 *data, gsize size, const HwRamRange *ranges,
                                    guint n_ranges, GError **error);
/* The regular file at PATH mapped read-only, for recordings; the caller owns the
 * mapping. Errors are G_IO_ERROR naming the file and why. */
GMappedFile *hw_physmem_map_file(const char *path, GError **error);
/* Zero-filled private memory for the RANGES (their file_offset ignored: laid out in
 * order), for RAM restored from a snapshot or a dump; the caller owns the result, and
 * *IMAGE (owned by it, valid until it is freed) is where range i starts at the sum of
 * the sizes before it. */
HwPhysMem *hw_physmem_new_anonymous(const HwRamRange *ranges, guint n_ranges, guint8 **image,
                                    GError **error);
/* Unmap and free. */
void hw_physmem_free(HwPhysMem *mem);

/* The RAM ranges, sorted by gpa. */
const HwRamRange *hw_physmem_get_ranges(const HwPhysMem *mem, guint *n_ranges);
/* Total bytes of guest RAM. */
guint64 hw_physmem_get_ram_size(const HwPhysMem *mem);
/* Pointer to LEN bytes at GPA inside one range, or NULL. Touch it only inside
 * hw_physmem_access: the file may shrink under the mapping (SIGBUS). */
const guint8 *hw_physmem_ptr(const HwPhysMem *mem, guint64 gpa, gsize len);
/* Whether the memory file still covers the mapping: FALSE with HW_ERROR_GONE when it
 * shrank (pages past its end read as SIGBUS, holes before it as zeros: a scan that only
 * reads written stretches would see nothing, not fail). */
gboolean hw_physmem_check(const HwPhysMem *mem, GError **error);
/* Work on LEN mapped bytes at P (no copy). */
typedef void (*HwPhysMemFunc)(const guint8 *p, gsize len, gpointer data);
/* Run FN on the LEN bytes at GPA (one range) in place, guarded against the memory file
 * shrinking: HW_ERROR_OUT_OF_RANGE outside RAM, HW_ERROR_GONE when the memory vanished
 * while FN ran (FN then stopped part-way; it must hold no locks or allocations). */
gboolean hw_physmem_access(const HwPhysMem *mem, guint64 gpa, gsize len, HwPhysMemFunc fn,
                           gpointer data, GError **error);
/* The first stretch of written data in [GPA, END) (one RAM range): FALSE when the rest
 * is a hole of the sparse memory file, which reads as zeros (the guest never wrote it;
 * touching it through the mapping would make tmpfs allocate it). */
gboolean hw_physmem_next_data(const HwPhysMem *mem, guint64 gpa, guint64 end,
                              guint64 *data_start, guint64 *data_end);
/* Fault the LEN mapped bytes at P (from hw_physmem_ptr) in at once before a pass reads
 * them (MADV_POPULATE_READ: one call instead of a fault per page); a call whose 2 MiB
 * chunks were all covered whole by earlier calls does nothing, so repeated passes over
 * a warm mapping pay it once. */
void hw_physmem_prefault(const HwPhysMem *mem, const guint8 *p, gsize len);
/* The data extents of the memory file (its written stretches, as SEEK_DATA sees them)
 * over all guest RAM at one moment, for scans that ask "is this data?" often:
 * hw_physmem_next_data asks the kernel each time, and on tmpfs each SEEK_HOLE walks the
 * file's pages up to the next hole, possibly its end. */
typedef struct _HwExtents HwExtents;
/* Take the extents now (one pass over the file's holes); the caller owns them. */
HwExtents *hw_physmem_get_extents(const HwPhysMem *mem);
/* Like hw_physmem_next_data, from the extents X. */
gboolean hw_extents_next(const HwExtents *x, guint64 gpa, guint64 end, guint64 *data_start,
                         guint64 *data_end);
/* Like hw_physmem_read, but the holes X knows of are filled with zeros without touching
 * the mapping (which would make tmpfs allocate them). */
gboolean hw_extents_read(const HwExtents *x, const HwPhysMem *mem, guint64 gpa, void *buf,
                         gsize len, GError **error);
/* Free. */
void hw_extents_free(HwExtents *map);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwExtents, hw_extents_free)
/* Copy LEN bytes at GPA into BUF; fails (OUT_OF_RANGE, GONE) without a crash. */
gboolean hw_physmem_read(const HwPhysMem *mem, guint64 gpa, void *buf, gsize len, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwPhysMem, hw_physmem_free)

G_END_DECLS
