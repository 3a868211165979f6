/* haywire: scanning guest memory (physical, or one process's virtual address space). */
#pragma once

#include <glib.h>
#include <haywire/physmem.h>
#include <haywire/linux.h>
#include <haywire/owners.h>
#include <haywire/image.h>

G_BEGIN_DECLS

/* What a pattern looks for. */
typedef enum {
  HW_PATTERN_STRING,   /* --string: TEXT's bytes in one encoding */
  HW_PATTERN_HEX,      /* --hex: bytes, some of them wildcards */
  HW_PATTERN_REGEX,    /* --regex: matches in runs of printable text */
} HwPatternKind;

/* One pattern to look for: bytes (a string in ASCII or UTF-16LE, or hex with wildcards),
 * or a regular expression. */
typedef struct {
  HwPatternKind kind;
  char *name;        /* what the user asked for, e.g. "HAYWIRE", "89 50 ??" */
  char *encoding;    /* "ascii", "utf-16le", "hex"; NULL for a regex (its hits say) */
  guint8 *bytes;     /* bytes patterns: LEN bytes, wildcards as 0 */
  guint8 *mask;      /* NULL: every byte matters; else bit i % 8 of mask[i / 8] set when
                      * byte i matters, clear for a wildcard */
  gsize len;
  gsize anchor;      /* index of the byte the matcher looks for first: one that matters,
                      * chosen to be rare in memory (not 0x00/0xff when another will do) */
  GRegex *regex;     /* regex patterns */
} HwPattern;

typedef enum {
  HW_HIT_STRING,     /* a bytes pattern (string or hex) */
  HW_HIT_IMAGE,
  HW_HIT_REGEX,
} HwHitKind;

/* A hit. Arrays of hits from the scans free what their hits own (hw_scan_hit_clear). */
typedef struct {
  HwHitKind kind;
  guint pattern;     /* strings and regexes: index into the pattern list */
  guint64 gpa;       /* of the first byte */
  guint64 va;        /* process scans only */
  guint64 len;       /* strings and regexes: bytes matched in memory */
  const char *encoding; /* regexes: "ascii" or "utf-16le" (static) */
  char *text;        /* regexes: the match as ASCII text, NUL-terminated (owned) */
  guint8 *bytes;     /* hex patterns with wildcards: the LEN bytes matched (owned) */
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
/* A bytes pattern for TEXT, hex byte pairs and "??" wildcards with optional white space
 * between bytes ("89 50 4e 47 ??"): 1 to 4096 bytes, at least one not a wildcard; the
 * caller owns it, NULL with HW_ERROR_INVALID_ARGUMENT on bad input. */
HwPattern *hw_pattern_new_hex(const char *text, GError **error);
/* A regex pattern for EXPR (GRegex, PCRE2 syntax), matched in runs of printable text
 * (ASCII and UTF-16LE, see HW_TEXT_MIN_RUN); the caller owns it, NULL with
 * HW_ERROR_INVALID_ARGUMENT when EXPR does not compile. */
HwPattern *hw_pattern_new_regex(const char *expr, gboolean ignore_case, GError **error);
/* Whether the bytes pattern P matches BUF (AVAIL bytes readable) at its start, under
 * its mask; FALSE for a regex. */
gboolean hw_pattern_matches(const HwPattern *p, const guint8 *buf, gsize avail);
/* Free one pattern. */
void hw_pattern_free(HwPattern *p);
/* Free what the hit at HIT (a HwScanHit*) owns: the clear function of hit arrays. */
void hw_scan_hit_clear(gpointer hit);

/* Runs of text for regex patterns: ASCII bytes 0x20-0x7e and tab, or UTF-16LE code
 * units of those with a zero high byte, at least HW_TEXT_MIN_RUN characters; runs
 * longer than HW_TEXT_MAX_RUN are cut into pieces of that many characters (a match
 * across a cut is not found). */
#define HW_TEXT_MIN_RUN 4
#define HW_TEXT_MAX_RUN 4096

/* Most threads a scan or classification runs on. */
#define HW_SCAN_MAX_THREADS 256

/* What one pass over all guest RAM looks for. */
typedef struct {
  GPtrArray *patterns;       /* HwPattern* of any kind, may be NULL */
  guint images;              /* mask of 1 << HwImageKind */
  gboolean classes;          /* also the class of every page (hw_scan_page_classes) */
  guint n_threads;           /* 0: one per core */
  HwScanProgress progress;   /* may be NULL */
  gpointer progress_data;
} HwScanRequest;

/* What the pass found; the caller owns it (hw_scan_report_clear). */
typedef struct {
  GArray *hits;              /* HwScanHit, sorted by gpa; frees what its hits own */
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
 * pages are skipped (a match wholly inside them is not reported); hits are bounded, the
 * image checks read at most twice RAM size + 256 MiB (against a guest planting fake files), and
 * the text and bytes regex and wildcard hits keep at most 64 MiB: *partial says when
 * hits may be missing. Runs of text are followed past a chunk's end within the range.
 * FALSE with HW_ERROR_GONE when the memory vanished: REPORT then still holds the hits
 * found before, partial, and no classes. */
gboolean hw_scan_phys_run(const HwPhysMem *mem, const HwScanRequest *req, HwScanReport *report,
                          GError **error);
/* All RAM and every process of LX, in one report: the physical pass, then each
 * process's address space for what only its page tables put side by side (files and
 * bitmaps in physically scattered pages). One hit per image (the same kind at the same
 * first gpa; raw pieces of a picture a process shows whole are dropped), sorted by gpa;
 * a hit only a process showed keeps that process's va, the others have va 0; OWNERS (may
 * be NULL) gives each hit's owners in REPORT->owners. Processes
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
 * process sees them: data and runs of text spanning physically scattered pages are seen
 * contiguous (not across an unmapped page, nor from one VMA into the next). The hits
 * (caller owns) are bounded as hw_scan_phys_run's. */
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
