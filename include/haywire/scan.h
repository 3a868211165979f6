/* haywire: scanning guest memory (physical, or one process's virtual address space). */
#pragma once

#include <glib.h>
#include <haywire/physmem.h>
#include <haywire/linux.h>
#include <haywire/owners.h>
#include <haywire/image.h>

G_BEGIN_DECLS

/* One byte pattern to look for, e.g. a string in ASCII or UTF-16LE. */
typedef struct {
  char *name;        /* what the user asked for, e.g. "HAYWIRE" */
  char *encoding;    /* "ascii", "utf-16le" */
  guint8 *bytes;
  gsize len;
} HwPattern;

typedef enum {
  HW_HIT_STRING,
  HW_HIT_IMAGE,
} HwHitKind;

/* A hit. */
typedef struct {
  HwHitKind kind;
  guint pattern;     /* strings: index into the pattern list */
  guint64 gpa;       /* of the first byte */
  guint64 va;        /* process scans only */
  HwImage image;     /* images: image.addr is the gpa (physical scans) or the va */
} HwScanHit;

/* What a page of RAM holds, for the overview picture. */
typedef enum {
  HW_PAGE_ZERO,
  HW_PAGE_DATA,
  HW_PAGE_TEXT,
  HW_PAGE_ENTROPY,
  HW_PAGE_IMAGE,
  HW_PAGE_PAGETABLE,
  HW_PAGE_N_CLASSES
} HwPageClass;

/* Progress: DONE of TOTAL bytes; called from one thread at a time. */
typedef void (*HwScanProgress)(guint64 done, guint64 total, gpointer data);

/* Patterns for TEXT: its ASCII (UTF-8) bytes and its UTF-16LE form. */
GPtrArray *hw_pattern_list_for_string(const char *text, GError **error);
/* Free one pattern. */
void hw_pattern_free(HwPattern *p);

/* Most threads a scan or classification runs on. */
#define HW_SCAN_MAX_THREADS 256

/* What one pass over all guest RAM looks for. */
typedef struct {
  GPtrArray *patterns;       /* HwPattern*, may be NULL */
  guint images;              /* mask of 1 << HwImageKind */
  gboolean classes;          /* also the class of every page (hw_scan_page_classes) */
  guint n_threads;           /* 0: one per core */
  HwScanProgress progress;   /* may be NULL */
  gpointer progress_data;
} HwScanRequest;

/* What the pass found; the caller owns it (hw_scan_report_clear). */
typedef struct {
  GArray *hits;              /* HwScanHit, sorted by gpa */
  GPtrArray *classes;        /* with REQ->classes: one byte array per RAM range */
  gboolean partial;          /* hits may be missing: limits, or the memory vanished */
  GArray *owners;            /* hw_scan_all: HwScanOwner, by hit; else NULL */
} HwScanReport;

/* One owner of a hit (hw_scan_all): who maps the page of its first byte, with the
 * VA of that byte for mappings. */
typedef struct {
  guint hit;                 /* index into the report's hits */
  HwOwner owner;
} HwScanOwner;

/* One pass over all guest RAM for REQ, reading each page once, into REPORT. All-zero
 * pages are skipped; hits are bounded, and the image checks read at most RAM size + 256
 * MiB (against a guest planting fake files): *partial says when hits may be missing.
 * FALSE with HW_ERROR_GONE when the memory vanished: REPORT then still holds the hits
 * found before, partial, and no classes. */
gboolean hw_scan_phys_run(const HwPhysMem *mem, const HwScanRequest *req, HwScanReport *report,
                          GError **error);
/* All RAM and every process of LX, in one report: the physical pass, then each
 * process's address space for what only its page tables put side by side (files and
 * bitmaps in physically scattered pages). One hit per image (the same kind at the same
 * first gpa; raw pieces of a picture a process shows whole are dropped), sorted by gpa,
 * hits' va 0; OWNERS (may be NULL) gives each hit's owners in REPORT->owners. Processes
 * that cannot be read make the report partial. FALSE with HW_ERROR_GONE as for
 * hw_scan_phys_run. */
gboolean hw_scan_all(HwLinux *lx, const HwPhysMem *mem, const HwScanRequest *req,
                     const HwOwnerMap *owners, HwScanReport *report, GError **error);
/* Free what REPORT holds and zero it. */
void hw_scan_report_clear(HwScanReport *report);
/* hw_scan_phys_run for PATTERNS and IMAGES: the hits (caller owns), NULL on error. */
GArray *hw_scan_phys(const HwPhysMem *mem, GPtrArray *patterns, guint images,
                     guint n_threads, HwScanProgress progress, gpointer data,
                     gboolean *partial, GError **error);
/* Scan the mapped pages of VMAS through MMU (a process's address space), as the
 * process sees them: data spanning physically scattered pages is seen contiguous. */
GArray *hw_scan_vmas(const HwMmu *mmu, const HwPhysMem *mem, GArray *vmas,
                     GPtrArray *patterns, guint images, gboolean *partial, GError **error);
/* Class of one 4096-byte page by its bytes alone: zero, text, high entropy or data. */
HwPageClass hw_page_classify(const guint8 *page);
/* Classes of every page of RAM: one byte array per RAM range (in the order of
 * hw_physmem_get_ranges), one HwPageClass byte per page. */
GPtrArray *hw_scan_page_classes(const HwPhysMem *mem, guint n_threads, HwScanProgress progress,
                                gpointer progress_data, GError **error);
/* Page hashes: what a page held, for snapshots and diffs. */
#define HW_PAGE_HASH_ZERO 0ull   /* all zero bytes */
#define HW_PAGE_HASH_HOLE 1ull   /* a hole of the memory file: never written, reads as zero */
/* Whether page hash H stands for data (neither zeros nor a hole). */
static inline gboolean
hw_page_hash_is_data(guint64 h)
{
  return h != HW_PAGE_HASH_ZERO && h != HW_PAGE_HASH_HOLE;
}
/* The hash of the 4 KiB page at PAGE as snapshots keep it: HW_PAGE_HASH_ZERO for zeros,
 * else its XXH3-64 moved off the two markers. */
guint64 hw_scan_page_hash(const guint8 *page);
/* The content hash of every 4 KiB page of RAM: XXH3-64 of its bytes, except zero pages
 * and holes, marked with the two values above without hashing (a real hash that falls
 * on 0 or 1 is moved to 2 or 3). One guint64 array per RAM range, in the order of
 * hw_physmem_get_ranges (caller owns); N_THREADS 0: one per core. HW_ERROR_GONE when
 * the memory vanished. */
GPtrArray *hw_scan_page_hashes(const HwPhysMem *mem, guint n_threads, HwScanProgress progress,
                               gpointer progress_data, GError **error);
/* The pages whose hashes differ from BEFORE to AFTER (both from hw_scan_page_hashes of
 * MEM), as a sorted array of guint64 gpas (caller owns); zeros and holes are alike. */
GArray *hw_scan_hashes_changed(const HwPhysMem *mem, GPtrArray *before, GPtrArray *after);
/* A reader of guest-physical memory (for the image checks and carving). */
HwReader hw_reader_for_physmem(const HwPhysMem *mem);
/* A reader of a virtual address space. */
HwReader hw_reader_for_mmu(const HwMmu *mmu);

G_END_DECLS
