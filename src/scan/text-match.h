/* Regex patterns over the runs of text a scan finds, private to scan. */
#pragma once

#include <haywire/scan.h>

/* Bytes of matched text (and hex bytes) all hits of one scan may hold: a regex like
 * ".+" over RAM full of text would otherwise keep gigabytes. */
#define HW_TEXT_KEEP ((gint64)64 << 20)

/* What the regex matching of one scan shares between its threads. */
typedef struct {
  GPtrArray *patterns;  /* the scan's patterns; only the regexes are used here */
  gboolean virt;        /* addresses are VAs (a process scan) */
  gint64 keep;          /* atomic: bytes of matched text the hits may still hold */
  gint missed;          /* atomic: hits were dropped (KEEP spent, or PCRE2's limits) */
  guint max_hits;       /* a thread's hits array grows no further */
} HwTextMatch;

/* Take N bytes from M's budget for kept bytes: FALSE (and the scan partial) once it
 * is spent, and the hit is dropped. */
gboolean hw_text_match_keep(HwTextMatch *m, gsize n);
/* Whether PATTERNS hold a regex. */
gboolean hw_text_match_wanted(GPtrArray *patterns);
/* The regex hits of M's patterns in the run TEXT (N ASCII characters, in memory at ADDR,
 * UTF16: as UTF-16LE), appended to OUT (each hit owns its text). */
void hw_text_match_run(HwTextMatch *m, const char *text, gsize n, guint64 addr,
                       gboolean utf16, GArray *out);
