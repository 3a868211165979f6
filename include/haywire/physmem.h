/* haywire: guest-physical memory, mapped read-only from memory-backend files, or copied
 * on first use from QEMU's process where a backend cannot be mapped. */
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
  guint64 file_offset;   /* offset in the range's own memory file (one file: the file);
                          * 0 for a range copied from a process */
} HwRamRange;

typedef struct _HwPhysMem HwPhysMem;

/* Where guest RAM comes from. */
typedef enum {
  HW_RAM_SOURCE_FILE,      /* a memory file mapped read-only and shared: no copy */
  HW_RAM_SOURCE_PROCESS,   /* QEMU's /proc/PID/mem: read with pread, copied on first use */
} HwRamSourceKind;

/* One source of guest RAM. */
typedef struct {
  HwRamSourceKind kind;
  int fd;                  /* taken by hw_physmem_open_sources (closed on failure too) */
  const char *name;        /* for messages, e.g. "/dev/shm/g.mem", "/proc/123/mem" (copied) */
} HwRamSource;

/* One guest-physical range served by a source. */
typedef struct {
  guint64 gpa;
  guint64 size;
  guint source;            /* index into the sources */
  guint64 offset;          /* FILE: offset in the file; PROCESS: QEMU's host virtual address */
} HwRamPiece;

/* A piece of a device's memory in the guest-physical address space, served beside RAM:
 * VRAM at a PCI BAR (vga.vram, bochs-display-vram, qxl.vram), ROMs, flash. */
typedef struct {
  HwRamPiece piece;
  const char *name;        /* QEMU's memory region name (copied) */
} HwDevicePiece;

/* One device region as served: not RAM (not in hw_physmem_get_ranges, not counted as
 * RAM), but read like it. */
typedef struct {
  guint64 gpa;
  guint64 size;
  const char *name;        /* QEMU's memory region name */
  guint64 hva;             /* where QEMU holds it (for `info`) */
} HwDeviceRegion;

/* Parse `info mtree -f` text: the ranges of the "memory" address space backed by REGION. */
GArray *hw_ram_map_parse_mtree(const char *mtree_text, const char *region, GError **error);
/* Parse `info mtree -f` text: every RAM, ROM or ROMD range of the "memory" address space
 * whose region is none of the NULL-terminated NOT_THESE (the RAM backends), at most 64,
 * as HwDevicePiece (piece.gpa, piece.size; piece.offset the offset inside the region;
 * source 0). The caller owns the array, which frees the names; an mtree without the
 * memory view is HW_ERROR_PROTOCOL, none found an empty array. */
GArray *hw_ram_map_parse_devices(const char *mtree_text, const char *const *not_these,
                                 GError **error);

/* mmap PATH read-only and serve the ranges of RAM (sorted, non-overlapping, inside the file). */
HwPhysMem *hw_physmem_open(const char *path, const HwRamRange *ranges, guint n_ranges, GError **error);
/* Serve the PIECES (in any order, disjoint in gpa) from the SOURCES, whose fds it takes
 * (closed on failure too); the caller owns the result. Each FILE source is mapped whole
 * and its pieces must lie inside it (HW_ERROR_NO_MEMORY_FILE); a PROCESS piece gets a
 * private copy, filled 256 KiB at a time as it is first used (by any number of threads
 * at once). Bad pieces (size 0, overlapping, wrapping, naming no source) are
 * HW_ERROR_INVALID_ARGUMENT. */
HwPhysMem *hw_physmem_open_sources(const HwRamSource *sources, guint n_sources,
                                   const HwRamPiece *pieces, guint n_pieces, GError **error);
/* Like hw_physmem_open_sources, and also the DEVICES (their pieces disjoint from the RAM
 * pieces and each other; PROCESS sources only: copied like RAM, refreshed by
 * hw_physmem_forget; a failed copy of one reads as zeros and fails hw_physmem_access,
 * never hw_physmem_check). */
HwPhysMem *hw_physmem_open_with_devices(const HwRamSource *sources, guint n_sources,
                                        const HwRamPiece *pieces, guint n_pieces,
                                        const HwDevicePiece *devices, guint n_devices,
                                        GError **error);
/* The device regions (owned by MEM), sorted by gpa; none for memory opened otherwise. */
const HwDeviceRegion *hw_physmem_get_devices(const HwPhysMem *mem, guint *n_devices);
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
/* Unmap, close the sources and free. */
void hw_physmem_free(HwPhysMem *mem);

/* The RAM ranges (owned by MEM), sorted by gpa. */
const HwRamRange *hw_physmem_get_ranges(const HwPhysMem *mem, guint *n_ranges);
/* Total bytes of guest RAM. */
guint64 hw_physmem_get_ram_size(const HwPhysMem *mem);
/* Whether any reads of RAM copy (a range from a PROCESS source), for `info`. */
gboolean hw_physmem_copies(const HwPhysMem *mem);
/* The source serving GPA: its kind and *NAME (owned by MEM); FALSE outside RAM. */
gboolean hw_physmem_get_source(const HwPhysMem *mem, guint64 gpa, HwRamSourceKind *kind,
                               const char **name);
/* Forget what was copied from processes (the guest may have run since) and the copy
 * failures seen; mapped sources need nothing. Not while other threads use MEM: pointers
 * taken before are stale (read zeros) until taken again. */
void hw_physmem_forget(HwPhysMem *mem);
/* Pointer (owned by MEM) to LEN bytes at GPA inside one range, or NULL; a copied range's
 * bytes are copied in first (a failed copy leaves zeros, see hw_physmem_check). Touch it
 * only inside hw_physmem_access: a file may shrink under the mapping (SIGBUS). */
const guint8 *hw_physmem_ptr(const HwPhysMem *mem, guint64 gpa, gsize len);
/* Whether guest RAM is still all there: FALSE with HW_ERROR_GONE naming the source when
 * a memory file no longer covers its ranges (pages past its end read as SIGBUS, holes
 * before it as zeros: a scan that only reads written stretches would see nothing, not
 * fail), when the first byte of a copied range cannot be read from the process, or when
 * a copy failed since open or hw_physmem_forget (QEMU exited or unmapped it). */
gboolean hw_physmem_check(const HwPhysMem *mem, GError **error);
/* Work on LEN mapped bytes at P (no copy). */
typedef void (*HwPhysMemFunc)(const guint8 *p, gsize len, gpointer data);
/* Run FN on the LEN bytes at GPA (one range) in place, guarded against the memory file
 * shrinking: HW_ERROR_OUT_OF_RANGE outside RAM, HW_ERROR_GONE when the memory vanished
 * while FN ran (FN then stopped part-way; it must hold no locks or allocations) or could
 * not be copied from the process (FN not run). */
gboolean hw_physmem_access(const HwPhysMem *mem, guint64 gpa, gsize len, HwPhysMemFunc fn,
                           gpointer data, GError **error);
/* The first stretch of written data in [GPA, END) (one RAM range): FALSE when the rest
 * is a hole of the range's sparse memory file, which reads as zeros (the guest never
 * wrote it; touching it through the mapping would make tmpfs allocate it). A copied
 * range is all data. */
gboolean hw_physmem_next_data(const HwPhysMem *mem, guint64 gpa, guint64 end,
                              guint64 *data_start, guint64 *data_end);
/* Fault the LEN mapped bytes at P (from hw_physmem_ptr, inside one range) in at once
 * before a pass reads them (MADV_POPULATE_READ: one call instead of a fault per page;
 * in a copied range: copy them in); a call whose 2 MiB chunks were all covered whole by
 * earlier calls does nothing, so repeated passes over a warm mapping pay it once. */
void hw_physmem_prefault(const HwPhysMem *mem, const guint8 *p, gsize len);
/* The data extents of the memory files (their written stretches, as SEEK_DATA sees them)
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
/* The extents of [GPA, GPA + LEN) only, for a window read often (the viewer's): each
 * page asked of the page cache (mincore), and only the pages not in it of the file
 * (SEEK_DATA), so the cost follows the window, not the file; outside it, nothing is
 * data (read only inside it). The caller owns them. */
HwExtents *hw_physmem_get_extents_in(const HwPhysMem *mem, guint64 gpa, guint64 len);
/* For N_PAGES 4 KiB pages from page-aligned GPA inside one range: DATA[i] = 1 where the
 * page holds data, 0 where it is a hole of the memory file (copied ranges: all data).
 * Returns the pages told (fewer at the range's end; 0 outside RAM). */
guint hw_physmem_data_pages(const HwPhysMem *mem, guint64 gpa, guint n_pages, guint8 *data);
/* Free. */
void hw_extents_free(HwExtents *map);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwExtents, hw_extents_free)
/* Copy LEN bytes at GPA into BUF; fails (OUT_OF_RANGE, GONE) without a crash. */
gboolean hw_physmem_read(const HwPhysMem *mem, guint64 gpa, void *buf, gsize len, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwPhysMem, hw_physmem_free)

G_END_DECLS
