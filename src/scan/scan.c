/* The scan engine: zero-copy over the RAM mapping, all cores, all-zero pages skipped
 * as match starts (a match may still run into one), SIGBUS-guarded per chunk. Finds
 * byte patterns, image files by signature (each validated by its finder through a
 * reader, so a file may run past the chunk), and runs of raw pixels. */
#include <haywire/scan.h>
#include <haywire/error.h>
#include "scan/chunk-runner.h"
#include "scan/find-raw.h"
#include "scan/page-bytes.h"

#include <string.h>

#define PAGE HW_PAGE_SIZE
#define CHUNK (8u << 20)
#define MAX_HITS (1u << 20)   /* a bound on the result, whatever the guest holds */
#define MAX_RUN (64ull << 20) /* a bound on one run of raw pixel pages */
#define SIG_MAX 8u            /* longest image signature */
/* What the image checks may read in one scan, beyond the scanned bytes themselves:
 * real images do not overlap, so their files add up to less than the memory; a guest
 * that plants signatures before huge fake chunks gets no more than this. */
#define CHECK_BUDGET_EXTRA ((gint64)HW_IMAGE_MAX_FILE)

typedef gboolean (*CheckFunc)(const HwReader *r, guint64 addr, HwImage *out);

static const struct {
  HwImageKind kind;
  const char *sig;
  gsize len;
  gsize anchor;      /* index of the byte memchr looks for */
  CheckFunc check;
} signatures[] = {
  { HW_IMAGE_PNG, "\x89PNG\r\n\x1a\n", 8, 0, hw_image_check_png },
  { HW_IMAGE_JPEG, "\xff\xd8\xff", 3, 1, hw_image_check_jpeg },
  { HW_IMAGE_GIF, "GIF8", 4, 3, hw_image_check_gif },
  { HW_IMAGE_BMP, "BM", 2, 1, hw_image_check_bmp },
  { HW_IMAGE_WEBP, "RIFF", 4, 0, hw_image_check_webp },
};

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
  gboolean virt;        /* addresses are VAs (a process scan): hits get va, gpa later */
} Spec;

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

/* Matches of NEEDLE starting in BUF[0, starts) with BUF readable up to AVAIL:
 * offsets appended to OUT. memchr looks for NEEDLE[ANCHOR], a byte chosen to be rare
 * in memory (0xff, the first byte of a JPEG, is everywhere in kernel pointers). */
static void
find_offsets(const guint8 *buf, gsize starts, gsize avail, const guint8 *needle, gsize len,
             gsize anchor, GArray *out)
{
  const guint8 *p = buf + anchor, *end = buf + MIN(starts + anchor, avail);
  while (p < end && out->len < MAX_HITS) {
    const guint8 *hit = memchr(p, needle[anchor], (gsize)(end - p));
    if (hit == NULL)
      break;
    gsize off = (gsize)(hit - buf) - anchor;
    if (avail - off >= len && memcmp(buf + off, needle, len) == 0)
      g_array_append_val(out, off);
    p = hit + 1;
  }
}

/* Strings and image signatures starting in BUF[0, STARTS), BUF readable to AVAIL;
 * BUF[0] is at address BASE. Matches ending at or before MIN_END were seen already. */
static void
scan_bytes(const Spec *s, const guint8 *buf, gsize starts, gsize avail, guint64 base,
           guint64 min_end, GArray *offsets, GArray *out)
{
  for (guint k = 0; s->patterns && k < s->patterns->len; k++) {
    const HwPattern *pat = g_ptr_array_index(s->patterns, k);
    g_array_set_size(offsets, 0);
    find_offsets(buf, starts, avail, pat->bytes, pat->len, 0, offsets);
    for (guint i = 0; i < offsets->len; i++) {
      HwScanHit h = { .kind = HW_HIT_STRING, .pattern = k };
      guint64 at = base + g_array_index(offsets, gsize, i);
      hit_at(s, &h, at);
      if (at + pat->len > min_end)
        add_hit(out, &h);
    }
  }
  for (guint k = 0; k < G_N_ELEMENTS(signatures); k++) {
    if (!(s->images & (1u << signatures[k].kind)))
      continue;
    g_array_set_size(offsets, 0);
    find_offsets(buf, starts, avail, (const guint8 *)signatures[k].sig, signatures[k].len,
                 signatures[k].anchor, offsets);
    for (guint i = 0; i < offsets->len; i++) {
      HwScanHit h = { .kind = HW_HIT_IMAGE };
      guint64 at = base + g_array_index(offsets, gsize, i);
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
} Run;

/* Measure a finished run; the hit's gpa is filled in by the caller for VAs. */
static void
close_run(const Spec *s, Run *run, GArray *out)
{
  /* A lone page of pixel-like bytes is weak evidence (and often the ragged end of
   * another picture): a run needs two pages. */
  if (run->end >= run->start + 2 * PAGE && run->pixels) {
    guint64 start = run->start, end = run->end;
    if (hw_pixel_format_bits(run->format) == 32)
      hw_raw_trim(&s->reader, &start, &end, run->format == HW_PIXEL_RGBA8888 ? 0xff : 0);
    HwScanHit h = { .kind = HW_HIT_IMAGE };
    if (hw_raw_measure(&s->reader, start, end - start, run->format, &h.image)) {
      hit_at(s, &h, start);
      add_hit(out, &h);
    }
  }
  run->start = run->end = 0;
  run->pixels = FALSE;
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
  GArray *hits;         /* HwScanHit */
  GArray *offsets;      /* gsize: scratch for matches */
} Thread;

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
  GArray *offsets = t->offsets;
  Run run = { 0 };
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
      if (raw && starts == PAGE && c->gpa + off >= skip_to) {
        HwRawClass cls = hw_raw_classify_page(page, &f);
        feed_run(s, &run, c->gpa + off, cls, f, out);
      }
    }
    pos = MAX(de, pos + 1);
  }
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
  Thread *t = g_new(Thread, 1);
  t->hits = g_array_new(FALSE, FALSE, sizeof(HwScanHit));
  t->offsets = g_array_new(FALSE, FALSE, sizeof(gsize));
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
  return (gint)x->pattern - (gint)y->pattern;
}

static gsize
longest_pattern(GPtrArray *patterns)
{
  gsize maxlen = SIG_MAX;
  for (guint k = 0; patterns && k < patterns->len; k++)
    maxlen = MAX(maxlen, ((HwPattern *)g_ptr_array_index(patterns, k))->len);
  return maxlen;
}

void
hw_scan_report_clear(HwScanReport *report)
{
  if (report->hits)
    g_array_unref(report->hits);
  if (report->classes)
    g_ptr_array_unref(report->classes);
  memset(report, 0, sizeof *report);
}

gboolean
hw_scan_phys_run(const HwPhysMem *mem, const HwScanRequest *req, HwScanReport *report,
                 GError **error)
{
  memset(report, 0, sizeof *report);
  Job job = { .mem = mem, .data = hw_physmem_get_extents(mem) };
  job.spec = (Spec){ .patterns = req->patterns, .images = req->images,
                     .reader = hw_reader_for_physmem(mem),
                     .budget = (gint64)hw_physmem_get_ram_size(mem) + CHECK_BUDGET_EXTRA };
  job.spec.reader.budget = &job.spec.budget;
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
  job.hits = g_array_new(FALSE, FALSE, sizeof(HwScanHit));
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
  if (job.hits->len > MAX_HITS)
    g_array_set_size(job.hits, MAX_HITS);
  report->hits = job.hits;
  report->partial = !whole || job.spec.budget < 0 || job.hits->len >= MAX_HITS;
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
  Spec s = { .patterns = patterns, .images = images, .reader = hw_reader_for_mmu(mmu),
             .budget = (gint64)hw_physmem_get_ram_size(mem) + CHECK_BUDGET_EXTRA,
             .virt = TRUE };
  s.reader.budget = &s.budget;
  gsize keep = longest_pattern(patterns) - 1;
  gboolean raw = (images & (1u << HW_IMAGE_RAW)) != 0;
  g_autofree guint8 *buf = g_malloc(keep + PAGE);
  /* The page alone, aligned for hw_page_is_zero's 8-byte loads (buf + carry is not). */
  g_autofree guint8 *page = g_malloc(PAGE);
  g_autoptr(GArray) offsets = g_array_new(FALSE, FALSE, sizeof(gsize));
  g_autoptr(GArray) found = g_array_new(FALSE, FALSE, sizeof(HwScanHit));
  Run run = { 0 };

  for (guint v = 0; v < vmas->len; v++) {
    const HwVma *vma = &g_array_index(vmas, HwVma, v);
    gsize carry = 0;
    for (guint64 va = vma->start, next; va < vma->end && found->len < MAX_HITS; va = next) {
      HwTranslation t;
      next = va + PAGE;
      if (!hw_mmu_translate(mmu, va, &t, NULL)) {
        /* Not present: data cannot run across. Skip the whole hole the walk found (a
         * reserved but untouched VMA can span terabytes). */
        carry = 0;
        next = hw_mmu_hole_end(mmu, va, &t);
        if (next <= va)
          break;
        continue;
      }
      GError *read_error = NULL;   /* ours: ERROR may be NULL */
      if (!hw_physmem_read(mem, t.pa, page, PAGE, &read_error)) {
        if (g_error_matches(read_error, HW_ERROR, HW_ERROR_OUT_OF_RANGE)) {
          g_clear_error(&read_error);  /* a page outside RAM (device memory): skip it */
          carry = 0;
          continue;
        }
        g_propagate_error(error, read_error);
        return NULL;
      }
      memcpy(buf + carry, page, PAGE);
      gsize len = carry + PAGE;
      /* Each match is reported from the buffer holding its last byte, so once. */
      scan_bytes(&s, buf, len, len, va - carry, va, offsets, found);
      if (raw) {
        HwPixelFormat f = HW_PIXEL_RGBA8888;   /* set by the classifier when it matters */
        HwRawClass cls = hw_page_is_zero(page) ? HW_RAW_NONE : hw_raw_classify_page(page, &f);
        feed_run(&s, &run, va, cls, f, found);
      }
      carry = MIN(keep, len);
      memmove(buf, buf + len - carry, carry);
    }
    close_run(&s, &run, found);
  }
  /* Hits carry their va so far: translate. */
  GArray *hits = g_array_new(FALSE, FALSE, sizeof(HwScanHit));
  for (guint i = 0; i < found->len; i++) {
    HwScanHit h = g_array_index(found, HwScanHit, i);
    HwTranslation t;
    if (h.kind == HW_HIT_IMAGE)
      h.image.addr = h.va;
    h.gpa = hw_mmu_translate(mmu, h.va, &t, NULL) ? t.pa : 0;
    g_array_append_val(hits, h);
  }
  g_array_sort(hits, compare_hit);
  if (partial)
    *partial = s.budget < 0 || hits->len >= MAX_HITS;
  return hits;
}
