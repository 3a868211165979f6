/* The scan engine: zero-copy over the RAM mapping, all cores, all-zero pages skipped
 * as match starts (a match may still run into one), SIGBUS-guarded per chunk. Finds
 * byte patterns, image files by signature (each validated by its finder through a
 * reader, so a file may run past the chunk), runs of raw pixels, and regexes in runs of
 * text (scan/text-runs.c finds the runs, scan/text-match.c matches them). */
#include <haywire/scan.h>
#include <haywire/error.h>
#include "scan/byte-pairs.h"
#include "scan/chunk-runner.h"
#include "scan/find-raw.h"
#include "scan/page-bytes.h"
#include "scan/text-match.h"
#include "scan/text-runs.h"

#include <string.h>

#define PAGE HW_PAGE_SIZE
#define CHUNK (8u << 20)
#define MAX_HITS (1u << 20)   /* a bound on the result, whatever the guest holds */
#define MAX_RUN (64ull << 20) /* a bound on one run of raw pixel pages */
#define SIG_MAX 8u            /* longest image signature */
#define MERGE_GAP_ROWS 64u    /* raw pieces of one picture: at most this many rows apart */
#define MERGE_GAP_MAX (1u << 20)
#define MERGE_LOOK_BACK 4u    /* raw hits a piece may be merged over */
/* What the image checks may read in one scan, beyond the scanned bytes themselves:
 * real images do not overlap, so their files add up to less than the memory; a guest
 * that plants signatures before huge fake chunks gets no more than this. */
#define CHECK_BUDGET_EXTRA ((gint64)HW_IMAGE_MAX_FILE)
/* What measuring runs of raw pixels may read, apart from the checks' budget (a page
 * full of fake signatures must not leave the pictures unmeasured, nor the reverse): a
 * run is read once to measure it and its rows about twice more to find its edges; runs
 * do not overlap, so real memory needs about three times its size. */
#define RAW_BUDGET(ram) (4 * (gint64)(ram) + (gint64)(64u << 20))

typedef gboolean (*CheckFunc)(const HwReader *r, guint64 addr, HwImage *out);

/* Image files by their first bytes; the search looks for the first two of each. */
static const struct {
  HwImageKind kind;
  const char *sig;
  gsize len;
  CheckFunc check;
} signatures[] = {
  { HW_IMAGE_PNG, "\x89PNG\r\n\x1a\n", 8, hw_image_check_png },
  { HW_IMAGE_JPEG, "\xff\xd8\xff", 3, hw_image_check_jpeg },
  { HW_IMAGE_GIF, "GIF8", 4, hw_image_check_gif },
  { HW_IMAGE_BMP, "BM", 2, hw_image_check_bmp },
  { HW_IMAGE_WEBP, "RIFF", 4, hw_image_check_webp },
};
G_STATIC_ASSERT(G_N_ELEMENTS(signatures) <= HW_BYTE_PAIRS_MAX);

gboolean
hw_image_check(HwImageKind kind, const HwReader *r, guint64 addr, HwImage *out)
{
  for (guint k = 0; k < G_N_ELEMENTS(signatures); k++)
    if (signatures[k].kind == kind)
      return signatures[k].check(r, addr, out);
  return FALSE;
}

static gboolean
phys_read(gpointer ctx, guint64 addr, void *buf, gsize len)
{
  return hw_physmem_read(ctx, addr, buf, len, NULL);
}

static gboolean
mmu_read(gpointer ctx, guint64 addr, void *buf, gsize len)
{
  return hw_mmu_read(ctx, addr, buf, len, NULL);
}

HwReader
hw_reader_for_physmem(const HwPhysMem *mem)
{
  return (HwReader){ .read = phys_read, .ctx = (gpointer)mem };
}

HwReader
hw_reader_for_mmu(const HwMmu *mmu)
{
  return (HwReader){ .read = mmu_read, .ctx = (gpointer)mmu };
}

/* What to look for, and where hits go. */
typedef struct {
  GPtrArray *patterns;
  guint images;
  HwReader reader;      /* the scanned address space, for the finders */
  gint64 budget;        /* bytes the checks may still read (reader.budget points here) */
  HwReader raw_reader;  /* the same space, for measuring raw pixel runs */
  gint64 raw_budget;    /* what those may still read (raw_reader.budget points here) */
  gboolean virt;        /* addresses are VAs (a process scan): hits get va, gpa later */
  HwTextMatch *match;   /* regexes, and the bytes hits may keep (shared by threads) */
  gboolean text;        /* there are regexes: find runs of text */
  gboolean zero_lead;   /* a bytes pattern may start with zeros (0x00 or ??) */
} Spec;

/* Where the runs of text one thread finds go. */
typedef struct {
  HwTextMatch *match;
  GArray *out;
} TextSink;

static void
text_found(const char *text, gsize n, guint64 addr, gboolean utf16, gpointer data)
{
  TextSink *sink = data;
  hw_text_match_run(sink->match, text, n, addr, utf16, sink->out);
}

void
hw_scan_hit_clear(gpointer hit)
{
  HwScanHit *h = hit;
  g_clear_pointer(&h->text, g_free);
  g_clear_pointer(&h->bytes, g_free);
}

static GArray *
hit_array_new(void)
{
  GArray *a = g_array_new(FALSE, FALSE, sizeof(HwScanHit));
  g_array_set_clear_func(a, hw_scan_hit_clear);
  return a;
}

/* Put ADDR where it belongs in H: the scanned space's address. */
static void
hit_at(const Spec *s, HwScanHit *h, guint64 addr)
{
  if (s->virt)
    h->va = addr;
  else
    h->gpa = addr;
}

static void
add_hit(GArray *out, const HwScanHit *h)
{
  if (out->len < MAX_HITS)
    g_array_append_vals(out, h, 1);
}

/* Matches of the bytes pattern PAT starting in BUF[0, STARTS), BUF readable to AVAIL:
 * offsets appended to OUT; memchr looks for its anchor byte. */
static void
find_pattern(const guint8 *buf, gsize starts, gsize avail, const HwPattern *pat, GArray *out)
{
  gsize a = pat->anchor;
  const guint8 *p = buf + a, *end = buf + MIN(starts + a, avail);
  while (p < end && out->len < MAX_HITS) {
    const guint8 *hit = memchr(p, pat->bytes[a], (gsize)(end - p));
    if (hit == NULL)
      break;
    gsize off = (gsize)(hit - buf) - a;
    if (hw_pattern_matches(pat, buf + off, avail - off))
      g_array_append_val(out, off);
    p = hit + 1;
  }
}

/* Add the hit H of pattern PAT whose bytes are at P: with wildcards, a copy of them
 * (while the scan's budget for kept bytes lasts; else the hit is dropped). */
static void
add_pattern_hit(const Spec *s, GArray *out, HwScanHit *h, const HwPattern *pat,
                const guint8 *p)
{
  if (out->len >= MAX_HITS)
    return;
  if (pat->mask != NULL) {
    if (!hw_text_match_keep(s->match, pat->len))
      return;
    h->bytes = g_memdup2(p, pat->len);
  }
  g_array_append_vals(out, h, 1);
}

/* How many of P's first bytes may be zeros (0x00 or wildcards), at most LEN - 1: a match
 * may start that far back in an all-zero page the scan skips. */
static gsize
zero_lead(const HwPattern *p)
{
  gsize n = 0;
  if (p->kind == HW_PATTERN_REGEX)
    return 0;
  while (n + 1 < p->len && p->bytes[n] == 0)   /* wildcards are stored as 0 */
    n++;
  return n;
}

static gboolean
any_zero_lead(GPtrArray *patterns)
{
  for (guint k = 0; patterns && k < patterns->len; k++)
    if (zero_lead(g_ptr_array_index(patterns, k)) > 0)
      return TRUE;
  return FALSE;
}

/* Matches starting in the zero page before the page P at BASE (readable to AVAIL) and
 * ending in P, which the zero page's skip left out: P's first bytes behind as many
 * zeros as a pattern may start with, in SCRATCH (2 pages). */
static void
scan_after_zeros(const Spec *s, const guint8 *p, gsize avail, guint64 base, guint8 *scratch,
                 GArray *offsets, GArray *out)
{
  for (guint k = 0; k < s->patterns->len; k++) {
    const HwPattern *pat = g_ptr_array_index(s->patterns, k);
    gsize lead = zero_lead(pat), n = MIN(avail, pat->len - 1);
    if (lead == 0)
      continue;
    memset(scratch, 0, lead);
    memcpy(scratch + lead, p, n);
    g_array_set_size(offsets, 0);
    find_pattern(scratch, lead, lead + n, pat, offsets);
    for (guint i = 0; i < offsets->len; i++) {
      gsize off = g_array_index(offsets, gsize, i);
      HwScanHit h = { .kind = HW_HIT_STRING, .pattern = k, .len = pat->len };
      hit_at(s, &h, base - lead + off);
      add_pattern_hit(s, out, &h, pat, scratch + off);
    }
  }
}

/* Patterns and image signatures starting in BUF[0, STARTS), BUF readable to AVAIL;
 * BUF[0] is at address BASE. Matches ending at or before MIN_END were seen already. */
static void
scan_bytes(const Spec *s, const guint8 *buf, gsize starts, gsize avail, guint64 base,
           guint64 min_end, GArray *offsets, GArray *out)
{
  for (guint k = 0; s->patterns && k < s->patterns->len; k++) {
    const HwPattern *pat = g_ptr_array_index(s->patterns, k);
    if (pat->kind == HW_PATTERN_REGEX)
      continue;
    g_array_set_size(offsets, 0);
    find_pattern(buf, starts, avail, pat, offsets);
    for (guint i = 0; i < offsets->len; i++) {
      HwScanHit h = { .kind = HW_HIT_STRING, .pattern = k, .len = pat->len };
      gsize off = g_array_index(offsets, gsize, i);
      guint64 at = base + off;
      hit_at(s, &h, at);
      if (at + pat->len > min_end)
        add_pattern_hit(s, out, &h, pat, buf + off);
    }
  }
  guint8 pairs[G_N_ELEMENTS(signatures)][2];
  guint which[G_N_ELEMENTS(signatures)], n = 0;
  for (guint k = 0; k < G_N_ELEMENTS(signatures); k++)
    if (s->images & (1u << signatures[k].kind)) {
      memcpy(pairs[n], signatures[k].sig, 2);
      which[n++] = k;
    }
  if (n == 0)
    return;
  g_array_set_size(offsets, 0);
  hw_find_byte_pairs(buf, starts, avail, (const guint8(*)[2])pairs, n, offsets, MAX_HITS);
  for (guint i = 0; i < offsets->len; i++) {
    gsize off = g_array_index(offsets, gsize, i);
    for (guint j = 0; j < n; j++) {
      guint k = which[j];
      if (avail - off < signatures[k].len || memcmp(buf + off, signatures[k].sig, signatures[k].len))
        continue;
      HwScanHit h = { .kind = HW_HIT_IMAGE };
      guint64 at = base + off;
      hit_at(s, &h, at);
      if (at + signatures[k].len > min_end && signatures[k].check(&s->reader, at, &h.image))
        add_hit(out, &h);
    }
  }
}

/* A run of pages that look like raw pixels of one format. */
typedef struct {
  guint64 start, end;
  HwPixelFormat format;
  gboolean pixels;      /* holds at least one varied page (not only flat ones) */
  guint64 covered_from, covered;   /* the last picture measured: pages inside are its */
} Run;

/* Measure a finished run; the hit's gpa is filled in by the caller for VAs. */
static void
close_run(const Spec *s, Run *run, GArray *out)
{
  /* A lone page of pixel-like bytes is weak evidence (and often the ragged end of
   * another picture): a run needs two pages. */
  if (run->end >= run->start + 2 * PAGE && run->pixels) {
    HwScanHit h = { .kind = HW_HIT_IMAGE };
    if (hw_raw_measure(&s->raw_reader, run->start, run->end - run->start, run->format, &h.image)) {
      hit_at(s, &h, h.image.addr);
      add_hit(out, &h);
      /* The picture's rows were followed past the run: the rest of its pages would be
       * measured again, to the same picture. */
      run->covered_from = h.image.addr;
      run->covered = h.image.addr + h.image.size;
    }
  }
  run->start = run->end = 0;
  run->pixels = FALSE;
}

/* Whether the page at ADDR lies inside the picture RUN measured last. */
static inline gboolean
covered(const Run *run, guint64 addr)
{
  return addr >= run->covered_from && addr + PAGE <= run->covered;
}

/* Add the page at ADDR (class CLS, format F) to RUN, closing it first if the page does
 * not continue it. */
static void
feed_run(const Spec *s, Run *run, guint64 addr, HwRawClass cls, HwPixelFormat f, GArray *out)
{
  gboolean continues = cls != HW_RAW_NONE && run->end == addr && run->end > run->start &&
                       run->format == f;
  if (!continues)
    close_run(s, run, out);
  if (cls == HW_RAW_NONE)
    return;
  if (!continues) {
    run->start = addr;
    run->format = f;
  }
  run->end = addr + PAGE;
  run->pixels |= cls == HW_RAW_PIXELS;
}

/* --- physical scans --------------------------------------------------------- */

typedef struct {
  guint64 gpa;      /* chunk start */
  gsize len;        /* bytes whose match starts we own */
  gsize avail;      /* bytes readable from gpa (len plus overlap, within the range) */
  guint range;      /* index of its RAM range */
  guint64 range_start, range_end;
} Chunk;

typedef struct {
  const HwPhysMem *mem;
  HwExtents *data;      /* the file's written stretches, taken once per scan */
  Spec spec;
  GArray *chunks;
  guint8 **classes;     /* per range, one HwPageClass per page; NULL: not wanted */
  GMutex lock;
  GArray *hits;
} Job;

/* Class of the physical page at GPA (zero pages and holes never look like pixels). */
static HwRawClass
classify_phys(const Job *job, guint64 gpa, HwPixelFormat *f)
{
  const guint8 *p = hw_physmem_ptr(job->mem, gpa, PAGE);
  guint64 ds, de;
  if (p == NULL || !hw_extents_next(job->data, gpa, gpa + PAGE, &ds, &de) || ds > gpa ||
      hw_page_is_zero(p))
    return HW_RAW_NONE;
  return hw_raw_classify_page(p, f);
}

/* What one thread owns: nothing is allocated inside a chunk, which a SIGBUS may cut. */
typedef struct {
  GArray *hits;         /* HwScanHit (what they own is freed with the job's hits) */
  GArray *offsets;      /* gsize: scratch for matches */
  HwTextRuns *runs;     /* with regexes */
  TextSink sink;
  guint8 *scratch;      /* 2 pages, for matches starting in a skipped zero page */
} Thread;

/* Whether the page before the one at GPA in chunk C is all zeros or a hole, when
 * LAST_DATA is the last page of C seen holding data. */
static gboolean
zeros_before(const Job *job, const Chunk *c, guint64 gpa, guint64 last_data)
{
  guint64 before = gpa - PAGE, ds, de;
  if (gpa < c->range_start + PAGE)
    return FALSE;
  if (before >= c->gpa)
    return last_data != before;   /* the chunk skipped it: zeros or a hole */
  if (!hw_extents_next(job->data, before, gpa, &ds, &de))
    return TRUE;
  const guint8 *p = ds == before && de == gpa ? hw_physmem_ptr(job->mem, before, PAGE) : NULL;
  return p != NULL && hw_page_is_zero(p);
}

/* Start the runs of text of chunk C: the two bytes before it (when written) tell a run
 * going on from the chunk before, which reports it. */
static void
text_begin(const Job *job, const Chunk *c, HwTextRuns *runs, TextSink *sink)
{
  guint64 own_end = c->gpa + c->len, ds, de;
  hw_text_runs_init(runs, c->gpa, c->gpa, own_end, text_found, sink);
  if (c->gpa >= c->range_start + 2 && hw_extents_next(job->data, c->gpa - 2, c->gpa, &ds, &de) &&
      ds == c->gpa - 2) {
    const guint8 *p = hw_physmem_ptr(job->mem, c->gpa - 2, 2);
    if (p != NULL) {
      hw_text_runs_init(runs, c->gpa - 2, c->gpa, own_end, text_found, sink);
      hw_text_runs_feed(runs, c->gpa - 2, p, 2);
    }
  }
}

/* Follow the runs of text open at chunk C's end into the pages after it, as far as
 * they go within the RAM range (written stretches only: a hole reads as zeros). */
static void
text_follow(const Job *job, const Chunk *c, HwTextRuns *runs)
{
  static const guint8 zero = 0;
  guint64 at = c->gpa + c->len, ds, de;
  hw_text_runs_feed(runs, at, NULL, 0);   /* zero pages skipped at its end end runs */
  while (hw_text_runs_pending(runs) && at < c->range_end) {
    guint64 end = MIN(at + PAGE, c->range_end);
    const guint8 *p = NULL;
    if (hw_extents_next(job->data, at, end, &ds, &de) && ds == at)
      p = hw_physmem_ptr(job->mem, at, (gsize)(de - at));
    if (p == NULL) {
      hw_text_runs_feed(runs, at, &zero, 1);
      break;
    }
    hw_text_runs_feed(runs, at, p, (gsize)(de - at));
    at = de;
  }
  hw_text_runs_finish(runs);
}

/* Scan chunk I into the thread's hits; runs under the SIGBUS guard. */
static guint64
scan_chunk(gpointer data, guint i, gpointer state)
{
  Job *job = data;
  Thread *t = state;
  GArray *out = t->hits;
  const Chunk *c = &g_array_index(job->chunks, Chunk, i);
  const Spec *s = &job->spec;
  const guint8 *base = hw_physmem_ptr(job->mem, c->gpa, c->avail);
  gboolean raw = (s->images & (1u << HW_IMAGE_RAW)) != 0;
  guint8 *classes = job->classes ? job->classes[c->range] + (c->gpa - c->range_start) / PAGE
                                 : NULL;
  if (base == NULL)
    return c->len;
  HwTextRuns *runs = t->runs;
  if (runs)
    text_begin(job, c, runs, &t->sink);
  GArray *offsets = t->offsets;
  Run run = { 0 };
  guint64 last_data = G_MAXUINT64;
  /* A run of pixel pages going on from the chunk before belongs to that chunk. */
  guint64 skip_to = c->gpa;
  HwPixelFormat f = HW_PIXEL_RGBA8888, f0 = HW_PIXEL_RGBA8888;
  if (raw && c->gpa > c->range_start && classify_phys(job, c->gpa - PAGE, &f0) != HW_RAW_NONE)
    while (skip_to < c->gpa + c->len && classify_phys(job, skip_to, &f) != HW_RAW_NONE &&
           f == f0)
      skip_to += PAGE;
  /* Only the written stretches of the sparse file: holes are zeros, never a match
   * start, and reading them through the mapping would make tmpfs allocate them. */
  guint64 pos = c->gpa, end = c->gpa + c->len, ds, de;
  while (pos < end && hw_extents_next(job->data, pos, end, &ds, &de)) {
    ds &= ~(guint64)(PAGE - 1);
    /* Map the stretch's pages in one call instead of one fault per few pages. */
    hw_physmem_prefault(job->mem, base + (ds - c->gpa), (gsize)(de - ds));
    for (gsize off = (gsize)(ds - c->gpa); off < (gsize)(de - c->gpa); off += PAGE) {
      gsize starts = MIN((gsize)PAGE, c->len - off);
      const guint8 *page = base + off;
      if (starts == PAGE && hw_page_is_zero(page))
        continue;   /* its class stays zero */
      if (classes && starts == PAGE)
        classes[off / PAGE] = (guint8)hw_page_classify(page);
      scan_bytes(s, page, starts, c->avail - off, c->gpa + off, 0, offsets, out);
      if (s->zero_lead && zeros_before(job, c, c->gpa + off, last_data))
        scan_after_zeros(s, page, c->avail - off, c->gpa + off, t->scratch, offsets, out);
      last_data = c->gpa + off;
      if (runs)
        hw_text_runs_feed(runs, c->gpa + off, page, starts);
      if (raw && starts == PAGE && c->gpa + off >= skip_to) {
        guint64 at = c->gpa + off;
        HwRawClass cls = covered(&run, at) ? HW_RAW_NONE : hw_raw_classify_page(page, &f);
        feed_run(s, &run, at, cls, f, out);
      }
    }
    pos = MAX(de, pos + 1);
  }
  if (runs)
    text_follow(job, c, runs);
  /* A run reaching the chunk's end goes on into the next chunk's pages. */
  if (run.end == c->gpa + c->len)
    while (run.end < c->range_end && run.end - run.start < MAX_RUN &&
           classify_phys(job, run.end, &f) != HW_RAW_NONE && f == run.format)
      run.end += PAGE;
  close_run(s, &run, out);
  return c->len;
}

static gpointer
thread_begin(gpointer data)
{
  Job *job = data;
  Thread *t = g_new0(Thread, 1);
  t->hits = g_array_new(FALSE, FALSE, sizeof(HwScanHit));
  t->offsets = g_array_new(FALSE, FALSE, sizeof(gsize));
  if (job->spec.text)
    t->runs = g_new0(HwTextRuns, 1);   /* PCRE2 JIT reads ahead in the run buffers */
  if (job->spec.zero_lead)
    t->scratch = g_malloc(2 * PAGE);
  t->sink = (TextSink){ job->spec.match, t->hits };
  return t;
}

static void
thread_end(gpointer data, gpointer state)
{
  Job *job = data;
  Thread *t = state;
  g_mutex_lock(&job->lock);
  g_array_append_vals(job->hits, t->hits->data, t->hits->len);
  g_mutex_unlock(&job->lock);
  g_array_unref(t->hits);
  g_array_unref(t->offsets);
  g_free(t->runs);
  g_free(t->scratch);
  g_free(t);
}

static gint
compare_hit(gconstpointer a, gconstpointer b)
{
  const HwScanHit *x = a, *y = b;
  if (x->va != y->va)
    return x->va < y->va ? -1 : 1;
  if (x->gpa != y->gpa)
    return x->gpa < y->gpa ? -1 : 1;
  if (x->kind != y->kind)
    return (gint)x->kind - (gint)y->kind;
  if (x->kind == HW_HIT_IMAGE && x->image.kind != y->image.kind)
    return (gint)x->image.kind - (gint)y->image.kind;
  if (x->pattern != y->pattern)
    return (gint)x->pattern - (gint)y->pattern;
  return x->len < y->len ? -1 : x->len > y->len;
}

/* Whether raw hit B, after A in memory, is more of A's picture: the same pixel size (a
 * 32-bit picture's transparent and opaque parts are read as rgba8888 and xrgb8888) and
 * stride, beginning within MERGE_GAP_ROWS rows of A's end (runs of one picture are cut
 * apart by pages that did not look like pixels: a dark, white or flat stretch). */
static gboolean
same_picture(const HwImage *a, const HwImage *b)
{
  guint64 end = a->addr + a->size;
  return hw_pixel_format_bits(a->format) == hw_pixel_format_bits(b->format) &&
         a->stride == b->stride && b->addr >= a->addr &&
         b->addr <= end + MIN((guint64)MERGE_GAP_ROWS * a->stride, (guint64)MERGE_GAP_MAX);
}

/* Raw hits of one picture are one hit: over the same bytes (keep the larger), or
 * pieces of the same geometry one after the other (one hit from the first piece's
 * first row to the last piece's end; pieces of another geometry in between, measured
 * wrong, go). HITS is sorted. */
static void
merge_raw_hits(GArray *hits)
{
  guint kept = 0;
  gint recent[MERGE_LOOK_BACK];   /* indices of the last raw hits kept, newest first */
  guint n_recent = 0;
  for (guint i = 0; i < hits->len; i++) {
    HwScanHit h = g_array_index(hits, HwScanHit, i);
    gboolean raw = h.kind == HW_HIT_IMAGE && h.image.kind == HW_IMAGE_RAW;
    if (raw && n_recent > 0) {
      gint into = -1;
      guint r = 0;
      for (; r < n_recent && into < 0; r++)
        if (same_picture(&g_array_index(hits, HwScanHit, recent[r]).image, &h.image))
          into = recent[r];
      if (into >= 0) {
        HwImage *p = &g_array_index(hits, HwScanHit, into).image;
        guint64 end = MAX(p->addr + p->size, h.image.addr + h.image.size);
        guint64 rows = (end - p->addr + p->stride - 1) / p->stride;
        p->width = MAX(p->width, h.image.width);
        p->height = (guint32)MIN(rows, (guint64)G_MAXUINT32);
        p->size = (guint64)p->stride * p->height;
        p->confidence = MAX(p->confidence, h.image.confidence);
        /* Raw hits kept after it lie inside it now: drop them (raw hits own nothing;
         * other hits after it move down). */
        guint w = (guint)into + 1;
        for (guint k = (guint)into + 1; k < kept; k++) {
          HwScanHit *x = &g_array_index(hits, HwScanHit, k);
          if (!(x->kind == HW_HIT_IMAGE && x->image.kind == HW_IMAGE_RAW))
            g_array_index(hits, HwScanHit, w++) = *x;
        }
        kept = w;
        /* The raw hits kept before it are still there: it and they, newest first. */
        memmove(recent + 1, recent + r, (n_recent - r) * sizeof recent[0]);
        recent[0] = into;
        n_recent = 1 + (n_recent - r);
        continue;
      }
      /* Over the same bytes: one of them measured wrong. Hits that share only their
       * edges (a picture's rows followed a little into the next one) both stay. */
      HwScanHit *prev = &g_array_index(hits, HwScanHit, recent[0]);
      guint64 prev_end = prev->image.addr + prev->image.size;
      guint64 shared = MIN(prev_end, h.image.addr + h.image.size) - h.image.addr;
      if (h.image.addr < prev_end && 2 * shared >= MIN(h.image.size, prev->image.size)) {
        if (h.image.size > prev->image.size)
          *prev = h;
        continue;
      }
    }
    if (raw) {
      memmove(recent + 1, recent, MIN(n_recent, MERGE_LOOK_BACK - 1u) * sizeof recent[0]);
      recent[0] = (gint)kept;
      n_recent = MIN(n_recent + 1, MERGE_LOOK_BACK);
    }
    g_array_index(hits, HwScanHit, kept++) = h;
  }
  /* The tail holds moved copies and dropped raw hits: nothing of it to free. */
  if (kept < hits->len)
    memset(&g_array_index(hits, HwScanHit, kept), 0, (hits->len - kept) * sizeof(HwScanHit));
  g_array_set_size(hits, kept);
}

static gsize
longest_pattern(GPtrArray *patterns)
{
  gsize maxlen = SIG_MAX;
  for (guint k = 0; patterns && k < patterns->len; k++)
    maxlen = MAX(maxlen, ((HwPattern *)g_ptr_array_index(patterns, k))->len);   /* regex: 0 */
  return maxlen;
}

void
hw_scan_report_clear(HwScanReport *report)
{
  if (report->hits)
    g_array_unref(report->hits);
  if (report->classes)
    g_ptr_array_unref(report->classes);
  if (report->owners)
    g_array_unref(report->owners);
  memset(report, 0, sizeof *report);
}

gboolean
hw_scan_phys_run(const HwPhysMem *mem, const HwScanRequest *req, HwScanReport *report,
                 GError **error)
{
  memset(report, 0, sizeof *report);
  Job job = { .mem = mem, .data = hw_physmem_get_extents(mem) };
  HwTextMatch match = { .patterns = req->patterns, .keep = HW_TEXT_KEEP, .max_hits = MAX_HITS };
  job.spec = (Spec){ .patterns = req->patterns, .images = req->images,
                     .reader = hw_reader_for_physmem(mem),
                     .budget = 2 * (gint64)hw_physmem_get_ram_size(mem) + CHECK_BUDGET_EXTRA,
                     .raw_budget = RAW_BUDGET(hw_physmem_get_ram_size(mem)),
                     .match = &match, .text = hw_text_match_wanted(req->patterns),
                     .zero_lead = any_zero_lead(req->patterns) };
  job.spec.reader.budget = &job.spec.budget;
  job.spec.raw_reader = job.spec.reader;
  job.spec.raw_reader.budget = &job.spec.raw_budget;
  gsize maxlen = longest_pattern(req->patterns);
  guint n;
  const HwRamRange *r = hw_physmem_get_ranges(mem, &n);
  g_autoptr(GPtrArray) classes = req->classes ? g_ptr_array_new_with_free_func(g_free) : NULL;
  job.chunks = g_array_new(FALSE, FALSE, sizeof(Chunk));
  guint64 total = 0;
  for (guint i = 0; i < n; i++) {
    if (classes)
      g_ptr_array_add(classes, g_malloc0(r[i].size / PAGE + 1));   /* HW_PAGE_ZERO */
    for (guint64 off = 0; off < r[i].size; off += CHUNK) {
      Chunk c = { r[i].gpa + off, (gsize)MIN((guint64)CHUNK, r[i].size - off), 0, i,
                  r[i].gpa, r[i].gpa + r[i].size };
      c.avail = (gsize)MIN((guint64)c.len + maxlen - 1, r[i].size - off);
      g_array_append_val(job.chunks, c);
      total += c.len;
    }
  }
  job.classes = classes ? (guint8 **)classes->pdata : NULL;
  job.hits = hit_array_new();
  g_mutex_init(&job.lock);
  HwChunkRunner runner = { .n_chunks = job.chunks->len, .n_threads = req->n_threads,
                           .total = total, .thread_begin = thread_begin, .chunk = scan_chunk,
                           .thread_end = thread_end, .progress = req->progress,
                           .progress_data = req->progress_data };
  /* The file cut short before or during the pass reads as holes, not SIGBUS, where the
   * written stretches were taken after the cut: check its size on both sides. */
  gboolean whole = hw_physmem_check(mem, NULL) && hw_chunks_run(&runner, &job) &&
                   hw_physmem_check(mem, NULL);
  g_mutex_clear(&job.lock);
  g_array_unref(job.chunks);
  hw_extents_free(job.data);
  g_array_sort(job.hits, compare_hit);
  merge_raw_hits(job.hits);
  if (job.hits->len > MAX_HITS)
    g_array_set_size(job.hits, MAX_HITS);
  report->hits = job.hits;
  report->partial = !whole || job.spec.budget < 0 || job.spec.raw_budget < 0 ||
                    job.hits->len >= MAX_HITS ||
                    g_atomic_int_get(&match.missed);
  if (!whole) {
    g_set_error(error, HW_ERROR, HW_ERROR_GONE, "guest memory vanished during the scan");
    return FALSE;
  }
  report->classes = g_steal_pointer(&classes);
  return TRUE;
}

GArray *
hw_scan_phys(const HwPhysMem *mem, GPtrArray *patterns, guint images, guint n_threads,
             HwScanProgress progress, gpointer data, gboolean *partial, GError **error)
{
  HwScanRequest req = { patterns, images, FALSE, n_threads, progress, data };
  HwScanReport rep;
  if (!hw_scan_phys_run(mem, &req, &rep, error)) {
    hw_scan_report_clear(&rep);
    return NULL;
  }
  if (partial)
    *partial = rep.partial;
  return rep.hits;
}

/* --- process scans ------------------------------------------------------------ */

GArray *
hw_scan_vmas(const HwMmu *mmu, const HwPhysMem *mem, GArray *vmas, GPtrArray *patterns,
             guint images, gboolean *partial, GError **error)
{
  HwTextMatch match = { .patterns = patterns, .virt = TRUE, .keep = HW_TEXT_KEEP,
                        .max_hits = MAX_HITS };
  Spec s = { .patterns = patterns, .images = images, .reader = hw_reader_for_mmu(mmu),
             .budget = 2 * (gint64)hw_physmem_get_ram_size(mem) + CHECK_BUDGET_EXTRA,
             .raw_budget = RAW_BUDGET(hw_physmem_get_ram_size(mem)),
             .virt = TRUE, .match = &match, .text = hw_text_match_wanted(patterns) };
  s.reader.budget = &s.budget;
  s.raw_reader = s.reader;
  s.raw_reader.budget = &s.raw_budget;
  gsize keep = longest_pattern(patterns) - 1;
  gboolean raw = (images & (1u << HW_IMAGE_RAW)) != 0;
  g_autofree guint8 *buf = g_malloc(keep + PAGE);
  /* The page alone, aligned for hw_page_is_zero's 8-byte loads (buf + carry is not). */
  g_autofree guint8 *page = g_malloc(PAGE);
  g_autoptr(GArray) offsets = g_array_new(FALSE, FALSE, sizeof(gsize));
  g_autoptr(GArray) found = hit_array_new();
  Run run = { 0 };
  /* Runs of text go on across pages wherever they lie in RAM, and belong to the page
   * where they start. */
  g_autofree HwTextRuns *runs = s.text ? g_new0(HwTextRuns, 1) : NULL;   /* see thread_begin */
  TextSink sink = { &match, found };

  for (guint v = 0; v < vmas->len; v++) {
    const HwVma *vma = &g_array_index(vmas, HwVma, v);
    gsize carry = 0;
    if (runs)
      hw_text_runs_init(runs, vma->start, vma->start, vma->end, text_found, &sink);
    for (guint64 va = vma->start, next; va < vma->end && found->len < MAX_HITS; va = next) {
      HwTranslation t;
      next = va + PAGE;
      if (!hw_mmu_translate(mmu, va, &t, NULL)) {
        /* Not present: data cannot run across. Skip the whole hole the walk found (a
         * reserved but untouched VMA can span terabytes). */
        carry = 0;
        next = hw_mmu_hole_end(mmu, va, &t);
        if (runs)
          hw_text_runs_break(runs, next);
        if (next <= va)
          break;
        continue;
      }
      GError *read_error = NULL;   /* ours: ERROR may be NULL */
      if (!hw_physmem_read(mem, t.pa, page, PAGE, &read_error)) {
        if (g_error_matches(read_error, HW_ERROR, HW_ERROR_OUT_OF_RANGE)) {
          g_clear_error(&read_error);  /* a page outside RAM (device memory): skip it */
          carry = 0;
          if (runs)
            hw_text_runs_break(runs, next);
          continue;
        }
        g_propagate_error(error, read_error);
        return NULL;
      }
      memcpy(buf + carry, page, PAGE);
      gsize len = carry + PAGE;
      /* Each match is reported from the buffer holding its last byte, so once. */
      scan_bytes(&s, buf, len, len, va - carry, va, offsets, found);
      if (runs)
        hw_text_runs_feed(runs, va, page, PAGE);
      if (raw) {
        HwPixelFormat f = HW_PIXEL_RGBA8888;   /* set by the classifier when it matters */
        HwRawClass cls = hw_page_is_zero(page) || covered(&run, va) ? HW_RAW_NONE
                                                                    : hw_raw_classify_page(page, &f);
        feed_run(&s, &run, va, cls, f, found);
      }
      carry = MIN(keep, len);
      memmove(buf, buf + len - carry, carry);
    }
    if (runs)
      hw_text_runs_finish(runs);
    close_run(&s, &run, found);
  }
  /* Hits carry their va so far: translate. */
  for (guint i = 0; i < found->len; i++) {
    HwScanHit *h = &g_array_index(found, HwScanHit, i);
    HwTranslation t;
    if (h->kind == HW_HIT_IMAGE)
      h->image.addr = h->va;
    h->gpa = hw_mmu_translate(mmu, h->va, &t, NULL) ? t.pa : 0;
  }
  g_array_sort(found, compare_hit);
  merge_raw_hits(found);
  if (found->len > MAX_HITS)
    g_array_set_size(found, MAX_HITS);
  if (partial)
    *partial = s.budget < 0 || s.raw_budget < 0 || found->len >= MAX_HITS ||
               g_atomic_int_get(&match.missed);
  return g_steal_pointer(&found);
}
