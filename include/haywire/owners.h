/* haywire: who maps each physical page of a Linux guest: a reverse map built from every
 * page table (the kernel's and each process's), one per paused moment. */
#pragma once

#include <glib.h>
#include <haywire/linux.h>

G_BEGIN_DECLS

typedef enum {
  HW_OWNER_PROCESS,      /* mapped in a process's user half */
  HW_OWNER_KERNEL,       /* mapped in the kernel half (direct map, vmalloc, the image) */
  HW_OWNER_PAGE_TABLE,   /* a page table of a process (pid) or of the kernel (pid 0) */
} HwOwnerKind;

/* One owner of a page. */
typedef struct {
  HwOwnerKind kind;
  gint32 pid;            /* process or page-table owner; 0 for the kernel */
  char comm[16];
  guint64 va;            /* where the page is mapped (its first byte); 0 for page tables */
  gboolean writable, nx;
  guint level;           /* page tables: the level (1: the last) */
} HwOwner;

typedef struct _HwOwnerMap HwOwnerMap;

/* Walk every page table of LX's guest (paused, for one consistent moment): the kernel
 * half once, each process's user half, and the table pages themselves. Bounded: at most
 * 2^22 table pages over all address spaces (*PARTIAL, may be NULL, says the bound was
 * hit or a task list was only partly readable). The caller owns the map. */
HwOwnerMap *hw_owner_map_build(HwLinux *lx, gboolean *partial, GError **error);
/* Free. */
void hw_owner_map_free(HwOwnerMap *map);
/* The owners of the 4 KiB page holding GPA (a new GArray of HwOwner, caller owns; empty
 * when nobody is known to map it), processes first, by pid and VA. */
GArray *hw_owner_map_lookup(const HwOwnerMap *map, guint64 gpa);
/* Mappings recorded (4 KiB pages and larger blocks), and address spaces walked. */
void hw_owner_map_get_counts(const HwOwnerMap *map, guint64 *mappings, guint *spaces);
/* Called for each 4 KiB page a process maps (huge pages page by page). */
typedef void (*HwOwnerPageFunc)(guint64 gpa, gint32 pid, guint64 va, gpointer data);
/* Call FN for every page every process maps, in no particular order. */
void hw_owner_map_foreach_process_page(const HwOwnerMap *map, HwOwnerPageFunc fn,
                                       gpointer data);
/* "process", "kernel" or "page-table". */
const char *hw_owner_kind_name(HwOwnerKind kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwOwnerMap, hw_owner_map_free)

G_END_DECLS
