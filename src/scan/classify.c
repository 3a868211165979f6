/* Page classes for the overview: zero, text, high entropy (compressed or encrypted),
 * other data; all RAM, all cores, holes of the memory file counted as zero unread. */
#include <haywire/scan.h>
#include <haywire/guard.h>
#include <haywire/error.h>

#include <math.h>
#include <string.h>

#define PAGE 4096u
#define CHUNK (8u << 20)

HwPageClass
hw_page_classify(const guint8 *page)
{
  const guint64 *w = (const guint64 *)(const void *)page;
  guint64 acc = 0;
  for (guint i = 0; i < PAGE / 8; i++)
    acc |= w[i];
  if (acc == 0)
    return HW_PAGE_ZERO;
  guint counts[256] = { 0 };
  guint text = 0;
  for (guint i = 0; i < PAGE; i++) {
    guint8 b = page[i];
    counts[b]++;
    text += (b >= 0x20 && b < 0x7f) || b == '\n' || b == '\t' || b == '\r';
  }
  /* Text: nearly all printable, and not one character repeated (padding). */
  guint most = 0;
  for (guint i = 0; i < 256; i++)
    most = MAX(most, counts[i]);
  if (text >= PAGE * 9 / 10 && most < PAGE / 2)
    return HW_PAGE_TEXT;
  /* Shannon entropy of the byte histogram: 8 bits is random; a page of compressed or
   * encrypted data reaches about 7.95, code and structures stay well below 7. */
  double h = 0;
  for (guint i = 0; i < 256; i++)
    if (counts[i]) {
      double p = counts[i] / (double)PAGE;
      h -= p * log2(p);
    }
  return h >= 7.5 ? HW_PAGE_ENTROPY : HW_PAGE_DATA;
}

typedef struct {
  const HwPhysMem *mem;
  HwDataMap *data;
  guint8 **classes;     /* per range */
  const HwRamRange *ranges;
  guint n_ranges;
  gint next;            /* atomic: next chunk */
  guint n_chunks;
  guint64 *chunk_start; /* index of the first chunk of each range */
  gint done;            /* atomic: chunks finished */
  gint gone;
} Job;

static void
classify_pages(Job *job, guint c)
{
  guint r = 0;
  while (r + 1 < job->n_ranges && job->chunk_start[r + 1] <= c)
    r++;
  const HwRamRange *range = &job->ranges[r];
  guint64 off = (c - job->chunk_start[r]) * (guint64)CHUNK;
  guint64 len = MIN((guint64)CHUNK, range->size - off);
  guint8 *out = job->classes[r] + off / PAGE;
  memset(out, HW_PAGE_ZERO, len / PAGE);
  const guint8 *base = hw_physmem_ptr(job->mem, range->gpa + off, len);
  guint64 pos = range->gpa + off, end = pos + len, ds, de;
  if (base == NULL)
    return;
  while (pos < end && hw_data_map_next(job->data, pos, end, &ds, &de)) {
    ds &= ~(guint64)(PAGE - 1);
    for (guint64 gpa = ds; gpa + PAGE <= de; gpa += PAGE)
      out[(gpa - range->gpa - off) / PAGE] =
          (guint8)hw_page_classify(base + (gpa - range->gpa - off));
    pos = MAX(de, pos + 1);
  }
}

static void
classify_chunk(Job *job, guint c)
{
  HwGuard g;
  hw_guard_push(&g);
  if (sigsetjmp(g.jb, 0) == 0) {
    classify_pages(job, c);
    hw_guard_pop(&g);
  } else {
    g_atomic_int_set(&job->gone, 1);
  }
}

static gpointer
worker(gpointer data)
{
  Job *job = data;
  for (;;) {
    gint c = g_atomic_int_add(&job->next, 1);
    if (c >= (gint)job->n_chunks || g_atomic_int_get(&job->gone))
      break;
    classify_chunk(job, (guint)c);
    g_atomic_int_inc(&job->done);
  }
  return NULL;
}

GPtrArray *
hw_scan_page_classes(const HwPhysMem *mem, guint n_threads, HwScanProgress progress,
                     gpointer progress_data, GError **error)
{
  guint n;
  const HwRamRange *ranges = hw_physmem_get_ranges(mem, &n);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
  g_autofree guint64 *chunk_start = g_new0(guint64, n + 1);
  guint n_chunks = 0;
  for (guint r = 0; r < n; r++) {
    chunk_start[r] = n_chunks;
    n_chunks += (guint)((ranges[r].size + CHUNK - 1) / CHUNK);
    g_ptr_array_add(out, g_malloc0(ranges[r].size / PAGE + 1));
  }
  g_autoptr(HwDataMap) data = hw_physmem_map_data(mem);
  Job job = { .mem = mem, .data = data, .classes = (guint8 **)out->pdata, .ranges = ranges,
              .n_ranges = n, .n_chunks = n_chunks, .chunk_start = chunk_start };
  if (n_threads == 0)
    n_threads = g_get_num_processors();
  n_threads = CLAMP(n_threads, 1, 256);
  g_autoptr(GPtrArray) threads = g_ptr_array_new();
  for (guint t = 1; t < n_threads; t++)
    g_ptr_array_add(threads, g_thread_new("hw-classify", worker, &job));
  /* This thread works too, and reports progress between its chunks. */
  for (;;) {
    gint c = g_atomic_int_add(&job.next, 1);
    if (c >= (gint)job.n_chunks || g_atomic_int_get(&job.gone))
      break;
    classify_chunk(&job, (guint)c);
    guint64 done = (guint64)g_atomic_int_add(&job.done, 1) + 1;
    if (progress)
      progress(MIN(done * CHUNK, hw_physmem_get_ram_size(mem)), hw_physmem_get_ram_size(mem),
               progress_data);
  }
  for (guint t = 0; t < threads->len; t++)
    g_thread_join(g_ptr_array_index(threads, t));
  if (job.gone) {
    g_set_error(error, HW_ERROR, HW_ERROR_GONE, "guest memory vanished during the scan");
    return NULL;
  }
  return g_steal_pointer(&out);
}
