/* The reverse map: every leaf of every page table, indexed by physical page. 4 KiB pages
 * go in a hash of chains; larger blocks (the kernel's direct map, huge pages) in a list
 * searched by range, since one block covers many pages. */
#include <haywire/owners.h>
#include <haywire/error.h>

#include <stdlib.h>
#include <string.h>

#define PAGE 4096u
#define MAX_TABLES (1u << 22)   /* table pages visited, over all address spaces */

typedef struct {
  HwOwnerKind kind;
  gint32 pid;
  char comm[16];
} Who;

typedef struct {
  guint64 va;
  guint32 who;
  guint32 next;          /* index + 1 of the next entry of the same page; 0: none */
  guint8 writable, nx, level;
} Entry;

typedef struct {
  guint64 pa, size, va;
  guint32 who;
  guint8 writable, nx;
} Block;

struct _HwOwnerMap {
  GArray *who;           /* Who */
  GArray *entries;       /* Entry */
  GHashTable *pages;     /* pfn + 1 -> index + 1 of the page's newest entry */
  GArray *blocks;        /* Block */
  GHashTable *tables;    /* table gpas seen (shared kernel tables are walked once) */
  guint spaces;
};

/* Building: the owner being walked. */
typedef struct {
  HwOwnerMap *map;
  guint32 who;
} Walk;

static guint32
add_who(HwOwnerMap *map, HwOwnerKind kind, gint32 pid, const char *comm)
{
  Who w = { kind, pid, { 0 } };
  g_strlcpy(w.comm, comm, sizeof w.comm);
  g_array_append_val(map->who, w);
  return map->who->len - 1;
}

static void
add_page(HwOwnerMap *map, guint64 pa, guint64 va, guint32 who, gboolean writable,
         gboolean nx, guint level)
{
  gpointer key = GSIZE_TO_POINTER((gsize)(pa / PAGE) + 1);
  Entry e = { va, who, GPOINTER_TO_UINT(g_hash_table_lookup(map->pages, key)), writable, nx,
              (guint8)level };
  g_array_append_val(map->entries, e);
  g_hash_table_insert(map->pages, key, GUINT_TO_POINTER(map->entries->len));
}

static gboolean
add_mapping(const HwMapping *m, gpointer data)
{
  Walk *w = data;
  if (m->size == PAGE) {
    add_page(w->map, m->pa, m->va, w->who, m->writable, m->nx, 0);
  } else {
    Block b = { m->pa, m->size, m->va, w->who, (guint8)m->writable, (guint8)m->nx };
    g_array_append_val(w->map->blocks, b);
  }
  return TRUE;
}

static gboolean
add_table(guint64 gpa, guint level, gpointer data)
{
  Walk *w = data;
  if (g_hash_table_contains(w->map->tables, &gpa))
    return FALSE;   /* shared (the kernel half): walked from another root already */
  g_hash_table_add(w->map->tables, g_memdup2(&gpa, sizeof gpa));
  add_page(w->map, gpa, 0, w->who, FALSE, TRUE, level);
  return TRUE;
}

/* BUDGET less USED, not below 0 (a function, not MIN: the walk must run once). */
static guint64
spend(guint64 budget, guint64 used)
{
  return used >= budget ? 0 : budget - used;
}

void
hw_owner_map_free(HwOwnerMap *map)
{
  if (map == NULL)
    return;
  g_array_unref(map->who);
  g_array_unref(map->entries);
  g_hash_table_unref(map->pages);
  g_array_unref(map->blocks);
  g_hash_table_unref(map->tables);
  g_free(map);
}

HwOwnerMap *
hw_owner_map_build(HwLinux *lx, gboolean *partial, GError **error)
{
  g_autoptr(HwOwnerMap) map = g_new0(HwOwnerMap, 1);
  map->who = g_array_new(FALSE, FALSE, sizeof(Who));
  map->entries = g_array_new(FALSE, FALSE, sizeof(Entry));
  map->pages = g_hash_table_new(g_direct_hash, g_direct_equal);
  map->blocks = g_array_new(FALSE, FALSE, sizeof(Block));
  map->tables = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  gboolean tasks_partial = FALSE;
  g_autoptr(GArray) tasks = hw_linux_list_tasks(lx, FALSE, &tasks_partial, error);
  if (tasks == NULL)
    return NULL;

  /* The kernel half once, from the kernel's own tables. */
  guint64 budget = MAX_TABLES;
  const HwMmu *kmmu = hw_linux_get_kernel_mmu(lx);
  Walk k = { map, add_who(map, HW_OWNER_KERNEL, 0, "kernel") };
  budget = spend(budget, hw_mmu_for_each_mapping(kmmu, HW_HALF_HIGH, add_mapping, &k, budget));
  Walk kt = { map, add_who(map, HW_OWNER_PAGE_TABLE, 0, "kernel") };
  /* The kernel's half only: its low half holds whatever process ran on vCPU 0. */
  budget = spend(budget, hw_mmu_for_each_table_in(kmmu, HW_HALF_HIGH, add_table, &kt, budget));
  map->spaces = 1;
  /* Each process's user half, and its tables (the kernel's are seen already). */
  for (guint i = 0; i < tasks->len && budget > 0; i++) {
    const HwTask *t = &g_array_index(tasks, HwTask, i);
    if (t->pgd_gpa == 0 || t->kernel_thread)
      continue;
    g_autoptr(HwMmu) mmu = hw_linux_task_mmu(lx, t, NULL);
    if (mmu == NULL)
      continue;
    Walk p = { map, add_who(map, HW_OWNER_PROCESS, t->pid, t->comm) };
    budget = spend(budget, hw_mmu_for_each_mapping(mmu, HW_HALF_LOW, add_mapping, &p, budget));
    Walk pt = { map, add_who(map, HW_OWNER_PAGE_TABLE, t->pid, t->comm) };
    budget = spend(budget, hw_mmu_for_each_table_in(mmu, HW_HALF_LOW, add_table, &pt, budget));
    map->spaces++;
  }
  if (partial)
    *partial = tasks_partial || budget == 0;
  return g_steal_pointer(&map);
}

static gint
compare_owner(gconstpointer a, gconstpointer b)
{
  const HwOwner *x = a, *y = b;
  if (x->kind != y->kind)
    return (gint)x->kind - (gint)y->kind;
  if (x->pid != y->pid)
    return x->pid < y->pid ? -1 : 1;
  return x->va < y->va ? -1 : x->va > y->va;
}

static void
append_owner(GArray *out, const HwOwnerMap *map, guint32 who, guint64 va, gboolean writable,
             gboolean nx, guint level)
{
  const Who *w = &g_array_index(map->who, Who, who);
  HwOwner o = { w->kind, w->pid, { 0 }, va, writable, nx, level };
  memcpy(o.comm, w->comm, sizeof o.comm);
  g_array_append_val(out, o);
}

GArray *
hw_owner_map_lookup(const HwOwnerMap *map, guint64 gpa)
{
  GArray *out = g_array_new(FALSE, FALSE, sizeof(HwOwner));
  guint64 page = gpa & ~(guint64)(PAGE - 1);
  gpointer key = GSIZE_TO_POINTER((gsize)(page / PAGE) + 1);
  /* Chains only ever point at older entries: bounded by the entry count. */
  for (guint idx = GPOINTER_TO_UINT(g_hash_table_lookup(map->pages, key)), n = 0;
       idx != 0 && n < map->entries->len; n++) {
    const Entry *e = &g_array_index(map->entries, Entry, idx - 1);
    append_owner(out, map, e->who, e->va, e->writable, e->nx, e->level);
    idx = e->next;
  }
  for (guint i = 0; i < map->blocks->len; i++) {
    const Block *b = &g_array_index(map->blocks, Block, i);
    if (page >= b->pa && page - b->pa < b->size)
      append_owner(out, map, b->who, b->va + (page - b->pa), b->writable, b->nx, 0);
  }
  g_array_sort(out, compare_owner);
  return out;
}

void
hw_owner_map_foreach_process_page(const HwOwnerMap *map, HwOwnerPageFunc fn, gpointer data)
{
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, map->pages);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    guint64 gpa = ((guint64)GPOINTER_TO_SIZE(key) - 1) * PAGE;
    for (guint idx = GPOINTER_TO_UINT(value), n = 0; idx != 0 && n < map->entries->len; n++) {
      const Entry *e = &g_array_index(map->entries, Entry, idx - 1);
      const Who *w = &g_array_index(map->who, Who, e->who);
      if (w->kind == HW_OWNER_PROCESS)
        fn(gpa, w->pid, e->va, data);
      idx = e->next;
    }
  }
  for (guint i = 0; i < map->blocks->len; i++) {
    const Block *b = &g_array_index(map->blocks, Block, i);
    const Who *w = &g_array_index(map->who, Who, b->who);
    if (w->kind != HW_OWNER_PROCESS)
      continue;
    for (guint64 off = 0; off < b->size; off += PAGE)
      fn(b->pa + off, w->pid, b->va + off, data);
  }
}

void
hw_owner_map_get_counts(const HwOwnerMap *map, guint64 *mappings, guint *spaces)
{
  if (mappings)
    *mappings = map->entries->len + map->blocks->len;
  if (spaces)
    *spaces = map->spaces;
}

const char *
hw_owner_kind_name(HwOwnerKind kind)
{
  switch (kind) {
  case HW_OWNER_PROCESS: return "process";
  case HW_OWNER_KERNEL: return "kernel";
  case HW_OWNER_PAGE_TABLE: return "page-table";
  }
  return "?";
}
