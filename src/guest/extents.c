/* A snapshot of which parts of guest RAM hold data: one SEEK_DATA/SEEK_HOLE pass over
 * each range's stretch of its memory file (copied ranges are all data), then lookups by
 * binary search. */
#include <haywire/physmem.h>

#include <string.h>


#define MAX_EXTENTS (1u << 22)   /* beyond this, the rest of a range counts as data */

typedef struct {
  guint64 start, end;   /* gpa */
} Extent;

struct _HwExtents {
  GArray *extents;      /* Extent, sorted, disjoint */
};

static void
add(HwExtents *m, guint64 start, guint64 end)
{
  Extent e = { start, end };
  if (end > start)
    g_array_append_val(m->extents, e);
}

static gint
compare_extent(gconstpointer a, gconstpointer b)
{
  const Extent *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

HwExtents *
hw_physmem_get_extents(const HwPhysMem *mem)
{
  HwExtents *m = g_new0(HwExtents, 1);
  m->extents = g_array_new(FALSE, FALSE, sizeof(Extent));
  guint n;
  const HwRamRange *r = hw_physmem_get_ranges(mem, &n);
  for (guint i = 0; i < n; i++) {
    guint64 pos = r[i].gpa, end = r[i].gpa + r[i].size, ds, de;
    /* hw_physmem_next_data's SEEK_HOLE runs to the next hole, so each extent costs
     * its own pages once: one pass over the file in all. */
    while (pos < end && hw_physmem_next_data(mem, pos, end, &ds, &de)) {
      if (m->extents->len >= MAX_EXTENTS) {
        add(m, ds, end);
        break;
      }
      add(m, ds, de);
      pos = MAX(de, pos + 1);
    }
  }
  /* Device regions (VRAM, ROMs) are copies: all data. */
  const HwDeviceRegion *d = hw_physmem_get_devices(mem, &n);
  for (guint i = 0; i < n; i++)
    add(m, d[i].gpa, d[i].gpa + d[i].size);
  g_array_sort(m->extents, compare_extent);
  return m;
}

HwExtents *
hw_physmem_get_extents_in(const HwPhysMem *mem, guint64 gpa, guint64 len)
{
  HwExtents *m = g_new0(HwExtents, 1);
  m->extents = g_array_new(FALSE, FALSE, sizeof(Extent));
  guint64 end = gpa + len;
  if (end < gpa)
    end = G_MAXUINT64;
  guint8 data[1024];
  for (guint64 pos = gpa & ~4095ull; pos < end;) {
    guint want = (guint)MIN((guint64)G_N_ELEMENTS(data), (end - pos + 4095) / 4096);
    guint got = hw_physmem_data_pages(mem, pos, want, data);
    if (got == 0) {
      pos += 4096;   /* not RAM: reads there fail on their own */
      continue;
    }
    for (guint i = 0; i < got; i++) {
      guint64 page = pos + (guint64)i * 4096;
      if (!data[i])
        continue;
      Extent *last = m->extents->len ? &g_array_index(m->extents, Extent, m->extents->len - 1)
                                      : NULL;
      if (last && last->end == page)
        last->end = page + 4096;
      else
        add(m, page, page + 4096);
    }
    pos += (guint64)got * 4096;
  }
  return m;
}

gboolean
hw_extents_next(const HwExtents *m, guint64 gpa, guint64 end, guint64 *data_start,
                 guint64 *data_end)
{
  /* The first extent ending after GPA. */
  guint lo = 0, hi = m->extents->len;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    if (g_array_index(m->extents, Extent, mid).end <= gpa)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == m->extents->len)
    return FALSE;
  const Extent *e = &g_array_index(m->extents, Extent, lo);
  if (e->start >= end || gpa >= end)
    return FALSE;
  *data_start = MAX(e->start, gpa);
  *data_end = MIN(e->end, end);
  return TRUE;
}

gboolean
hw_extents_read(const HwExtents *m, const HwPhysMem *mem, guint64 gpa, void *buf, gsize len,
                 GError **error)
{
  if (hw_physmem_ptr(mem, gpa, len) == NULL)
    return hw_physmem_read(mem, gpa, buf, len, error);   /* its error */
  guint8 *out = buf;
  guint64 pos = gpa, end = gpa + len, ds, de;
  while (pos < end && hw_extents_next(m, pos, end, &ds, &de)) {
    memset(out + (pos - gpa), 0, (gsize)(ds - pos));
    if (!hw_physmem_read(mem, ds, out + (ds - gpa), (gsize)(de - ds), error))
      return FALSE;
    pos = de;
  }
  memset(out + (pos - gpa), 0, (gsize)(end - pos));
  return TRUE;
}

void
hw_extents_free(HwExtents *m)
{
  if (m == NULL)
    return;
  g_array_unref(m->extents);
  g_free(m);
}
