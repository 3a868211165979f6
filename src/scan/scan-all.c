/* All of RAM and every process: the physical pass finds what lies in contiguous pages;
 * each process's address space shows what its page tables put side by side (files and
 * bitmaps in scattered pages). One hit per image: the same kind at the same first byte
 * is one hit, and a raw picture a process shows whole replaces the pieces the physical
 * pass made of it. Owners come from the reverse map of every page table. */
#include <haywire/scan.h>
#include <haywire/error.h>

#include <string.h>

#define MAX_PROCESSES 4096u
#define MAX_OWNERS_PER_HIT 64u

typedef struct {
  guint64 gpa;
  gint kind;        /* the hit kind, and its image kind or pattern and encoding */
} HitKey;

static guint
key_hash(gconstpointer p)
{
  const HitKey *k = p;
  return (guint)(k->gpa ^ (k->gpa >> 29)) * 31u + (guint)k->kind;
}

static gboolean
key_equal(gconstpointer a, gconstpointer b)
{
  const HitKey *x = a, *y = b;
  return x->gpa == y->gpa && x->kind == y->kind;
}

static HitKey
key_of(const HwScanHit *h)
{
  gint what = h->kind == HW_HIT_IMAGE
                  ? (gint)h->image.kind
                  : (gint)(h->pattern * 2u + (h->encoding && strcmp(h->encoding, "utf-16le") == 0));
  return (HitKey){ .gpa = h->gpa, .kind = (gint)h->kind * 1000000 + what };
}

static gint
compare_gpa(gconstpointer a, gconstpointer b)
{
  const HwScanHit *x = a, *y = b;
  if (x->gpa != y->gpa)
    return x->gpa < y->gpa ? -1 : 1;
  return key_of(x).kind - key_of(y).kind;
}

/* The gpas of the pages a raw hit of a process spans (at most LIMIT), into SET. */
static void
raw_pages(const HwMmu *mmu, const HwScanHit *h, GHashTable *set, guint limit)
{
  guint64 va = h->va & ~(guint64)(HW_PAGE_SIZE - 1), end = h->va + h->image.size;
  for (guint n = 0; va < end && n < limit; va += HW_PAGE_SIZE, n++) {
    HwTranslation t;
    if (hw_mmu_translate(mmu, va, &t, NULL))
      g_hash_table_add(set, GSIZE_TO_POINTER((gsize)(t.pa / HW_PAGE_SIZE)));
  }
}

/* Add what one process shows to HITS (KEYS indexes them); raw pictures it shows whole
 * mark their pages in RAW_PAGES. */
static void
add_process_hits(const HwMmu *mmu, GArray *found, GArray *hits, GHashTable *keys,
                 GHashTable *raw_pages_set, GHashTable *process_raw)
{
  for (guint i = 0; i < found->len; i++) {
    HwScanHit *from = &g_array_index(found, HwScanHit, i);
    HitKey k = key_of(from);
    if (g_hash_table_contains(keys, &k))
      continue;   /* FOUND frees what this one owns */
    /* HITS takes over what the hit owns (a regex match's text, hex bytes). */
    HwScanHit h = *from;
    from->text = NULL;
    from->bytes = NULL;
    HitKey *kp = g_memdup2(&k, sizeof k);
    g_hash_table_insert(keys, kp, GUINT_TO_POINTER(hits->len + 1));
    if (h.kind == HW_HIT_IMAGE && h.image.kind == HW_IMAGE_RAW) {
      raw_pages(mmu, &h, raw_pages_set, 1u << 16);
      g_hash_table_add(process_raw, GSIZE_TO_POINTER((gsize)h.gpa + 1));
    }
    h.image.addr = h.gpa;   /* the report is of physical memory */
    g_array_append_val(hits, h);
  }
}

gboolean
hw_scan_all(HwLinux *lx, const HwPhysMem *mem, const HwScanRequest *req,
            const HwOwnerMap *owners, HwScanReport *report, GError **error)
{
  if (!hw_scan_phys_run(mem, req, report, error))
    return FALSE;
  g_autoptr(GArray) tasks = hw_linux_list_tasks(lx, FALSE, NULL, NULL);
  GArray *hits = report->hits;
  for (guint i = 0; i < hits->len; i++)
    g_array_index(hits, HwScanHit, i).va = 0;
  g_autoptr(GHashTable) keys = g_hash_table_new_full(key_hash, key_equal, g_free, NULL);
  g_autoptr(GHashTable) raw_set = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_autoptr(GHashTable) process_raw = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (guint i = 0; i < hits->len; i++) {
    HitKey k = key_of(&g_array_index(hits, HwScanHit, i));
    if (!g_hash_table_contains(keys, &k))
      g_hash_table_insert(keys, g_memdup2(&k, sizeof k), GUINT_TO_POINTER(i + 1));
  }
  guint n_phys = hits->len;
  for (guint t = 0; tasks && t < tasks->len && t < MAX_PROCESSES; t++) {
    const HwTask *task = &g_array_index(tasks, HwTask, t);
    if (task->kernel_thread || task->pgd_gpa == 0)
      continue;
    g_autoptr(HwMmu) mmu = hw_linux_task_mmu(lx, task, NULL);
    GArray *vmas = mmu ? hw_linux_list_vmas(lx, task, NULL, NULL) : NULL;
    if (vmas == NULL) {
      report->partial = TRUE;   /* a process we could not read */
      continue;
    }
    gboolean partial = FALSE;
    g_autoptr(GError) local = NULL;
    g_autoptr(GArray) found = hw_scan_vmas(mmu, mem, vmas, req->patterns, req->images,
                                           &partial, &local);
    hw_vma_array_free(vmas);
    if (found == NULL) {
      if (g_error_matches(local, HW_ERROR, HW_ERROR_GONE)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
      }
      report->partial = TRUE;
      continue;
    }
    report->partial |= partial;
    add_process_hits(mmu, found, hits, keys, raw_set, process_raw);
  }
  /* Physical raw hits that are pieces of a picture some process shows whole go. */
  guint kept = 0;
  for (guint i = 0; i < hits->len; i++) {
    HwScanHit h = g_array_index(hits, HwScanHit, i);
    gboolean piece = i < n_phys && h.kind == HW_HIT_IMAGE && h.image.kind == HW_IMAGE_RAW &&
                     !g_hash_table_contains(process_raw, GSIZE_TO_POINTER((gsize)h.gpa + 1)) &&
                     g_hash_table_contains(raw_set,
                                           GSIZE_TO_POINTER((gsize)(h.gpa / HW_PAGE_SIZE)));
    if (!piece)
      g_array_index(hits, HwScanHit, kept++) = h;
  }
  /* The tail holds moved copies and dropped raw hits (which own nothing). */
  if (kept < hits->len)
    memset(&g_array_index(hits, HwScanHit, kept), 0, (hits->len - kept) * sizeof(HwScanHit));
  g_array_set_size(hits, kept);
  g_array_sort(hits, compare_gpa);
  /* Who maps each hit's first byte. */
  report->owners = g_array_new(FALSE, FALSE, sizeof(HwScanOwner));
  for (guint i = 0; owners && i < hits->len; i++) {
    const HwScanHit *h = &g_array_index(hits, HwScanHit, i);
    g_autoptr(GArray) o = hw_owner_map_lookup(owners, h->gpa);
    for (guint k = 0; k < o->len && k < MAX_OWNERS_PER_HIT; k++) {
      HwScanOwner so = { .hit = i, .owner = g_array_index(o, HwOwner, k) };
      if (so.owner.kind != HW_OWNER_PAGE_TABLE)
        so.owner.va += h->gpa % HW_PAGE_SIZE;
      g_array_append_val(report->owners, so);
    }
  }
  return TRUE;
}
