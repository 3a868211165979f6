/* haywire: scanning guest memory (physical, or one process's virtual address space). */
#pragma once

#include <glib.h>
#include <haywire/physmem.h>
#include <haywire/linux.h>

G_BEGIN_DECLS

/* One byte pattern to look for, e.g. a string in ASCII or UTF-16LE. */
typedef struct {
  char *name;        /* what the user asked for, e.g. "HAYWIRE" */
  char *encoding;    /* "ascii", "utf-16le" */
  guint8 *bytes;
  gsize len;
} HwPattern;

/* A hit. */
typedef struct {
  guint pattern;     /* index into the pattern list */
  guint64 gpa;
  guint64 va;        /* process scans only */
} HwScanHit;

/* Progress: DONE of TOTAL bytes; called from one thread at a time. */
typedef void (*HwScanProgress)(guint64 done, guint64 total, gpointer data);

/* Patterns for TEXT: its ASCII (UTF-8) bytes and its UTF-16LE form. */
GPtrArray *hw_pattern_list_for_string(const char *text, GError **error);
/* Free one pattern. */
void hw_pattern_free(HwPattern *p);

/* Scan all guest RAM for PATTERNS with N_THREADS threads (0: one per core); hits
 * sorted by gpa. All-zero pages are skipped. */
GArray *hw_scan_phys(const HwPhysMem *mem, GPtrArray *patterns, guint n_threads,
                     HwScanProgress progress, gpointer data, GError **error);
/* Scan the mapped pages of VMAS through MMU (a process's address space), as the
 * process sees them: data spanning physically scattered pages is seen contiguous. */
GArray *hw_scan_vmas(const HwMmu *mmu, const HwPhysMem *mem, GArray *vmas,
                     GPtrArray *patterns, GError **error);

G_END_DECLS
