/* The scan engine: zero-copy over the RAM mapping, all cores, all-zero pages skipped
 * as match starts (a match may still run into one), SIGBUS-guarded per chunk. */
#include <haywire/scan.h>
#include <haywire/error.h>
#include <haywire/guard.h>

#include <string.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#define PAGE 4096u
#define CHUNK (8u << 20)
#define MAX_HITS (1u << 20)   /* a bound on the result, whatever the guest holds */

typedef struct {
  guint64 gpa;      /* chunk start */
  gsize len;        /* bytes whose match starts we own */
  gsize avail;      /* bytes readable from gpa (len plus overlap, within the range) */
} Chunk;

typedef struct {
  const HwPhysMem *mem;
  GPtrArray *patterns;
  GArray *chunks;
  gint next;            /* atomic: next chunk to take */
  guint64 done;         /* atomic: bytes done */
  guint64 total;
  gint gone;            /* atomic: the mapping vanished */
  GMutex lock;
  GArray *hits;
} Job;

static gboolean
page_is_zero(const guint8 *p)
{
  const guint64 *w = (const guint64 *)(const void *)p;
  guint64 acc = 0;
  for (guint i = 0; i < PAGE / 8; i += 8)
    acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7];
  return acc == 0;
}

/* Matches of pattern PAT starting in BUF[0, starts) with BUF readable up to AVAIL. */
static void
find_in(const guint8 *buf, gsize starts, gsize avail, const HwPattern *pat, guint index,
        guint64 base_gpa, GArray *out)
{
  const guint8 *p = buf, *end = buf + starts;
  while (p < end && out->len < MAX_HITS) {
    const guint8 *hit = memchr(p, pat->bytes[0], (gsize)(end - p));
    if (hit == NULL)
      break;
    gsize off = (gsize)(hit - buf);
    if (avail - off >= pat->len && memcmp(hit, pat->bytes, pat->len) == 0) {
      HwScanHit h = { .pattern = index, .gpa = base_gpa + off };
      g_array_append_val(out, h);
    }
    p = hit + 1;
  }
}

static void
scan_chunk(Job *job, const Chunk *c, GArray *out)
{
  const guint8 *base = hw_physmem_ptr(job->mem, c->gpa, c->avail);
  if (base == NULL)
    return;
  HwGuard g;
  hw_guard_push(&g);
  if (sigsetjmp(g.jb, 0) == 0) {
    /* Only the written stretches of the sparse file: holes are zeros, never a match
     * start, and reading them through the mapping would make tmpfs allocate them. */
    guint64 pos = c->gpa, end = c->gpa + c->len, ds, de;
    while (pos < end && hw_physmem_next_data(job->mem, pos, end, &ds, &de)) {
      ds &= ~(guint64)(PAGE - 1);
      /* Map the stretch's pages in one call instead of one fault per few pages (Linux
       * 5.14+; failure only means the faults happen one by one). */
      madvise((void *)(base + (ds - c->gpa)), (gsize)(de - ds), MADV_POPULATE_READ);
      for (gsize off = (gsize)(ds - c->gpa); off < (gsize)(de - c->gpa); off += PAGE) {
        gsize starts = MIN((gsize)PAGE, c->len - off);
        if (starts == PAGE && page_is_zero(base + off))
          continue;
        for (guint k = 0; k < job->patterns->len; k++)
          find_in(base + off, starts, c->avail - off, g_ptr_array_index(job->patterns, k), k,
                  c->gpa + off, out);
      }
      pos = MAX(de, pos + 1);
    }
    hw_guard_pop(&g);
  } else {
    g_atomic_int_set(&job->gone, 1);
  }
}

static gpointer
worker(gpointer data)
{
  Job *job = data;
  g_autoptr(GArray) hits = g_array_new(FALSE, FALSE, sizeof(HwScanHit));
  for (;;) {
    gint i = g_atomic_int_add(&job->next, 1);
    if (i >= (gint)job->chunks->len || g_atomic_int_get(&job->gone))
      break;
    const Chunk *c = &g_array_index(job->chunks, Chunk, i);
    scan_chunk(job, c, hits);
    __atomic_add_fetch(&job->done, c->len, __ATOMIC_RELAXED);
  }
  g_mutex_lock(&job->lock);
  g_array_append_vals(job->hits, hits->data, hits->len);
  g_mutex_unlock(&job->lock);
  return NULL;
}

static gint
compare_hit(gconstpointer a, gconstpointer b)
{
  const HwScanHit *x = a, *y = b;
  if (x->va != y->va)
    return x->va < y->va ? -1 : 1;
  if (x->gpa != y->gpa)
    return x->gpa < y->gpa ? -1 : 1;
  return (gint)x->pattern - (gint)y->pattern;
}

GArray *
hw_scan_phys(const HwPhysMem *mem, GPtrArray *patterns, guint n_threads,
             HwScanProgress progress, gpointer data, GError **error)
{
  Job job = { .mem = mem, .patterns = patterns };
  gsize maxlen = 1;
  for (guint k = 0; k < patterns->len; k++)
    maxlen = MAX(maxlen, ((HwPattern *)g_ptr_array_index(patterns, k))->len);
  guint n;
  const HwRamRange *r = hw_physmem_get_ranges(mem, &n);
  job.chunks = g_array_new(FALSE, FALSE, sizeof(Chunk));
  for (guint i = 0; i < n; i++)
    for (guint64 off = 0; off < r[i].size; off += CHUNK) {
      Chunk c = { r[i].gpa + off, (gsize)MIN((guint64)CHUNK, r[i].size - off), 0 };
      c.avail = (gsize)MIN((guint64)c.len + maxlen - 1, r[i].size - off);
      g_array_append_val(job.chunks, c);
      job.total += c.len;
    }
  job.hits = g_array_new(FALSE, FALSE, sizeof(HwScanHit));
  g_mutex_init(&job.lock);
  if (n_threads == 0)
    n_threads = g_get_num_processors();
  n_threads = CLAMP(n_threads, 1, 256);

  g_autoptr(GPtrArray) threads = g_ptr_array_new();
  for (guint t = 1; t < n_threads; t++)
    g_ptr_array_add(threads, g_thread_new("hw-scan", worker, &job));
  /* This thread works too, and reports progress between its chunks. */
  for (;;) {
    gint i = g_atomic_int_add(&job.next, 1);
    if (i >= (gint)job.chunks->len || g_atomic_int_get(&job.gone))
      break;
    const Chunk *c = &g_array_index(job.chunks, Chunk, i);
    g_autoptr(GArray) mine = g_array_new(FALSE, FALSE, sizeof(HwScanHit));
    scan_chunk(&job, c, mine);
    guint64 done = __atomic_add_fetch(&job.done, c->len, __ATOMIC_RELAXED);
    g_mutex_lock(&job.lock);
    g_array_append_vals(job.hits, mine->data, mine->len);
    g_mutex_unlock(&job.lock);
    if (progress)
      progress(done, job.total, data);
  }
  for (guint t = 0; t < threads->len; t++)
    g_thread_join(g_ptr_array_index(threads, t));
  g_mutex_clear(&job.lock);
  g_array_unref(job.chunks);
  if (job.gone) {
    g_array_unref(job.hits);
    g_set_error(error, HW_ERROR, HW_ERROR_GONE, "guest memory vanished during the scan");
    return NULL;
  }
  if (job.hits->len > MAX_HITS)
    g_array_set_size(job.hits, MAX_HITS);
  g_array_sort(job.hits, compare_hit);
  return job.hits;
}

GArray *
hw_scan_vmas(const HwMmu *mmu, const HwPhysMem *mem, GArray *vmas, GPtrArray *patterns,
             GError **error)
{
  gsize maxlen = 1;
  for (guint k = 0; k < patterns->len; k++)
    maxlen = MAX(maxlen, ((HwPattern *)g_ptr_array_index(patterns, k))->len);
  gsize keep = maxlen - 1;
  g_autofree guint8 *buf = g_malloc(keep + PAGE);
  GArray *hits = g_array_new(FALSE, FALSE, sizeof(HwScanHit));

  for (guint v = 0; v < vmas->len; v++) {
    const HwVma *vma = &g_array_index(vmas, HwVma, v);
    gsize carry = 0;
    guint64 prev_pa = 0;
    for (guint64 va = vma->start; va < vma->end && hits->len < MAX_HITS; va += PAGE) {
      HwTranslation t;
      if (!hw_mmu_translate(mmu, va, &t, NULL)) {
        carry = 0;   /* not present: data cannot run across */
        continue;
      }
      if (!hw_physmem_read(mem, t.pa, buf + carry, PAGE, error)) {
        if (g_error_matches(*error, HW_ERROR, HW_ERROR_OUT_OF_RANGE)) {
          g_clear_error(error);  /* a page outside RAM (device memory): skip it */
          carry = 0;
          continue;
        }
        g_array_unref(hits);
        return NULL;
      }
      gsize len = carry + PAGE;
      /* Report a match in the buffer holding its last byte: each once. */
      for (guint k = 0; k < patterns->len; k++) {
        const HwPattern *pat = g_ptr_array_index(patterns, k);
        g_autoptr(GArray) found = g_array_new(FALSE, FALSE, sizeof(HwScanHit));
        find_in(buf, len, len, pat, k, 0, found);
        for (guint i = 0; i < found->len; i++) {
          gsize off = (gsize)g_array_index(found, HwScanHit, i).gpa;
          if (off + pat->len <= carry)
            continue;
          HwScanHit h = { .pattern = k, .va = va - carry + off };
          h.gpa = off >= carry ? t.pa + (off - carry) : prev_pa + PAGE - carry + off;
          g_array_append_val(hits, h);
        }
      }
      carry = MIN(keep, len);
      memmove(buf, buf + len - carry, carry);
      prev_pa = t.pa;
    }
  }
  g_array_sort(hits, compare_hit);
  return hits;
}
