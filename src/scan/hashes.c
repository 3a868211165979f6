/* Page hashes over all RAM on the chunk runner: holes of the sparse memory file are
 * marked without being read (touching them would make tmpfs allocate them), zero
 * pages without being hashed, and every other page gets its XXH3-64. */
#include <haywire/scan.h>
#include <haywire/error.h>
#include "scan/chunk-runner.h"
#include "scan/page-bytes.h"

#include <string.h>
#include <xxhash.h>

#define PAGE HW_PAGE_SIZE
#define CHUNK (8u << 20)

typedef struct {
  const HwPhysMem *mem;
  HwExtents *extents;
  const HwRamRange *ranges;
  guint64 *chunk_range;  /* range index of each chunk */
  guint64 *chunk_off;    /* its offset in that range */
  guint64 **hashes;      /* per range */
} Job;

guint64
hw_scan_page_hash(const guint8 *page)
{
  if (hw_page_is_zero(page))
    return HW_PAGE_HASH_ZERO;
  guint64 h = XXH3_64bits(page, PAGE);
  return h <= HW_PAGE_HASH_HOLE ? h + 2 : h;   /* the two markers are not content hashes */
}

static guint64
hash_chunk(gpointer data, guint i, gpointer state)
{
  Job *job = data;
  const HwRamRange *r = &job->ranges[job->chunk_range[i]];
  guint64 off = job->chunk_off[i], len = MIN((guint64)CHUNK, r->size - off);
  guint64 *out = job->hashes[job->chunk_range[i]] + off / PAGE;
  for (guint64 p = 0; p < len / PAGE; p++)
    out[p] = HW_PAGE_HASH_HOLE;
  const guint8 *base = hw_physmem_ptr(job->mem, r->gpa + off, (gsize)len);
  if (base == NULL)
    return len;
  guint64 pos = r->gpa + off, end = pos + len, ds, de;
  while (pos < end && hw_extents_next(job->extents, pos, end, &ds, &de)) {
    ds &= ~(guint64)(PAGE - 1);
    hw_physmem_prefault(job->mem, base + (ds - r->gpa - off), (gsize)(de - ds));
    for (guint64 gpa = ds; gpa + PAGE <= de; gpa += PAGE) {
      const guint8 *page = base + (gpa - r->gpa - off);
      out[(gpa - r->gpa - off) / PAGE] = hw_scan_page_hash(page);
    }
    pos = MAX(de, pos + 1);
  }
  return len;
}

GPtrArray *
hw_scan_page_hashes(const HwPhysMem *mem, guint n_threads, HwScanProgress progress,
                    gpointer progress_data, GError **error)
{
  guint n;
  const HwRamRange *r = hw_physmem_get_ranges(mem, &n);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GArray) cr = g_array_new(FALSE, FALSE, sizeof(guint64));
  g_autoptr(GArray) co = g_array_new(FALSE, FALSE, sizeof(guint64));
  guint64 total = 0;
  for (guint i = 0; i < n; i++) {
    g_ptr_array_add(out, g_new(guint64, r[i].size / PAGE + 1));
    for (guint64 off = 0; off < r[i].size; off += CHUNK) {
      guint64 ri = i;
      g_array_append_val(cr, ri);
      g_array_append_val(co, off);
    }
    total += r[i].size;
  }
  g_autoptr(HwExtents) extents = hw_physmem_get_extents(mem);
  Job job = { mem, extents, r, (guint64 *)(void *)cr->data, (guint64 *)(void *)co->data,
              (guint64 **)out->pdata };
  HwChunkRunner runner = { .n_chunks = cr->len, .n_threads = n_threads, .total = total,
                           .chunk = hash_chunk, .progress = progress,
                           .progress_data = progress_data };
  if (!hw_physmem_check(mem, NULL) || !hw_chunks_run(&runner, &job) ||
      !hw_physmem_check(mem, NULL)) {
    g_set_error(error, HW_ERROR, HW_ERROR_GONE, "guest memory vanished while it was hashed");
    return NULL;
  }
  return g_steal_pointer(&out);
}

GArray *
hw_scan_hashes_changed(const HwPhysMem *mem, GPtrArray *before, GPtrArray *after)
{
  GArray *out = g_array_new(FALSE, FALSE, sizeof(guint64));
  guint n;
  const HwRamRange *r = hw_physmem_get_ranges(mem, &n);
  for (guint i = 0; i < n && i < before->len && i < after->len; i++) {
    const guint64 *x = g_ptr_array_index(before, i), *y = g_ptr_array_index(after, i);
    for (guint64 p = 0; p < r[i].size / PAGE; p++) {
      /* A hole and a page of zeros read the same. */
      if (x[p] != y[p] && (hw_page_hash_is_data(x[p]) || hw_page_hash_is_data(y[p]))) {
        guint64 gpa = r[i].gpa + p * PAGE;
        g_array_append_val(out, gpa);
      }
    }
  }
  return out;
}
