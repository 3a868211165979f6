/* The overview's page classes: one pass over RAM (classes and image finders), then the
 * pages of images and of every page table marked over them. */
#include <haywire/picture.h>

#include <string.h>

#define PAGE HW_PAGE_SIZE
#define MAX_TABLES (1u << 20)   /* page-table pages visited, over all address spaces */

typedef struct {
  const HwRamRange *ranges;
  guint n;
  GPtrArray *classes;
  GHashTable *seen;     /* table gpas marked already */
} Marks;

static void
mark(Marks *m, guint64 gpa, guint64 len, HwPageClass cls)
{
  for (guint r = 0; r < m->n; r++) {
    const HwRamRange *range = &m->ranges[r];
    if (gpa >= range->gpa + range->size || gpa + len <= range->gpa || gpa + len < gpa)
      continue;
    guint64 from = MAX(gpa, range->gpa) - range->gpa;
    guint64 to = MIN(gpa + len, range->gpa + range->size) - range->gpa;
    guint8 *c = g_ptr_array_index(m->classes, r);
    for (guint64 p = from / PAGE; p < (to + PAGE - 1) / PAGE; p++)
      c[p] = (guint8)cls;
  }
}

static gboolean
mark_table(guint64 gpa, guint level, gpointer data)
{
  Marks *m = data;
  if (g_hash_table_contains(m->seen, &gpa))
    return FALSE;   /* shared (the kernel half): walked from another root already */
  g_hash_table_add(m->seen, g_memdup2(&gpa, sizeof gpa));
  mark(m, gpa, PAGE, HW_PAGE_PAGETABLE);
  return TRUE;
}

/* Page-table pages of the kernel and of every process with an mm. */
static guint
mark_page_tables(HwLinux *lx, Marks *m)
{
  guint n_spaces = 0;
  guint64 budget = MAX_TABLES;
  budget -= hw_mmu_for_each_table(hw_linux_get_kernel_mmu(lx), mark_table, m, budget);
  g_autoptr(GArray) tasks = hw_linux_list_tasks(lx, FALSE, NULL, NULL);
  for (guint i = 0; tasks && i < tasks->len && budget > 0; i++) {
    const HwTask *t = &g_array_index(tasks, HwTask, i);
    if (t->pgd_gpa == 0)
      continue;
    g_autoptr(HwMmu) mmu = hw_linux_task_mmu(lx, t, NULL);
    if (mmu) {
      budget -= hw_mmu_for_each_table(mmu, mark_table, m, budget);
      n_spaces++;
    }
  }
  return n_spaces;
}

void
hw_overview_pages_clear(HwOverviewPages *pages)
{
  if (pages->classes)
    g_ptr_array_unref(pages->classes);
  memset(pages, 0, sizeof *pages);
}

gboolean
hw_overview_collect(const HwPhysMem *mem, HwLinux *lx, guint n_threads,
                    HwScanProgress progress, gpointer progress_data, HwOverviewPages *out,
                    GError **error)
{
  memset(out, 0, sizeof *out);
  HwScanRequest req = { NULL, (1u << HW_IMAGE_N_KINDS) - 1, TRUE, n_threads, progress,
                        progress_data };
  HwScanReport rep;
  if (!hw_scan_phys_run(mem, &req, &rep, error)) {
    hw_scan_report_clear(&rep);
    return FALSE;
  }
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  Marks m = { .classes = rep.classes, .seen = seen };
  m.ranges = hw_physmem_get_ranges(mem, &m.n);
  if (lx != NULL) {
    out->n_spaces = mark_page_tables(lx, &m);
    out->tables_known = TRUE;
  }
  /* Images last: their class wins over the others. */
  for (guint i = 0; i < rep.hits->len; i++) {
    const HwScanHit *h = &g_array_index(rep.hits, HwScanHit, i);
    mark(&m, h->gpa, MAX(h->image.size, 1), HW_PAGE_IMAGE);
  }
  out->n_images = rep.hits->len;
  out->partial = rep.partial;
  out->classes = g_steal_pointer(&rep.classes);
  hw_scan_report_clear(&rep);
  return TRUE;
}
