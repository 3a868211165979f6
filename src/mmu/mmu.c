/* Arch-neutral translation API: pick the walker, guard the mapping, read through pages. */
#include "mmu/mmu-private.h"
#include <haywire/error.h>
#include "guest/guard.h"

/* Every walker; adding an arch means one more file and one more line here. */
static const HwMmuOps *const walkers[] = { &hw_mmu_x86_64_ops, &hw_mmu_aarch64_ops };

static const HwMmuOps *
ops_for(HwArch arch, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS(walkers); i++)
    if (walkers[i]->arch == arch)
      return walkers[i];
  g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED,
              "page walks are not implemented for %s guests",
              hw_arch_name(arch));
  return NULL;
}

HwMmu *
hw_mmu_new_from_regs(const HwPhysMem *mem, const HwRegs *regs, GError **error)
{
  const HwMmuOps *ops = ops_for(hw_regs_get_arch(regs), error);
  return ops ? ops->from_regs(mem, regs, error) : NULL;
}

HwMmu *
hw_mmu_new_from_root(const HwPhysMem *mem, HwArch arch, guint64 root_gpa, const HwRegs *regs,
                     GError **error)
{
  const HwMmuOps *ops = ops_for(arch, error);
  if (ops == NULL)
    return NULL;
  if (regs != NULL && hw_regs_get_arch(regs) != arch) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "%s registers for a %s root",
                hw_arch_name(hw_regs_get_arch(regs)), hw_arch_name(arch));
    return NULL;
  }
  if (regs == NULL) {
    if (ops->from_root == NULL) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                  "an %s root needs the vCPU's registers for the paging mode", ops->name);
      return NULL;
    }
    return ops->from_root(mem, root_gpa, error);
  }
  /* The paging mode (and the kernel half) come from the vCPU. */
  HwMmu *mmu = ops->from_regs(mem, regs, error);
  if (mmu != NULL)
    ops->set_user_root(mmu, root_gpa);
  return mmu;
}

HwMmu *
hw_mmu_copy_with_root(const HwMmu *mmu, guint64 root_gpa)
{
  HwMmu *copy = g_memdup2(mmu, sizeof *mmu);
  copy->ops->set_user_root(copy, root_gpa);
  return copy;
}

HwMmu *
hw_mmu_copy_with_kernel_root(const HwMmu *mmu, guint64 root_gpa)
{
  HwMmu *copy = g_memdup2(mmu, sizeof *mmu);
  copy->ops->set_kernel_root(copy, root_gpa);
  return copy;
}

guint
hw_mmu_kernel_root_candidates(const HwMmu *mmu, guint64 *out, guint max)
{
  return mmu->ops->kernel_root_candidates(mmu, out, max);
}

HwArch
hw_mmu_get_arch(const HwMmu *mmu)
{
  return mmu->ops->arch;
}

guint64
hw_mmu_get_kernel_root(const HwMmu *mmu)
{
  return mmu->ops->kernel_root(mmu);
}

gboolean
hw_mmu_has_separate_kernel_root(const HwMmu *mmu)
{
  return mmu->ops->separate_kernel_root;
}

guint64
hw_mmu_get_page_size(const HwMmu *mmu, guint64 va)
{
  /* The last level's entries span one page. */
  return mmu->ops->entry_span(mmu, va, HW_MMU_MAX_LEVELS);
}

void
hw_mmu_free(HwMmu *mmu)
{
  g_free(mmu);
}

guint
hw_mmu_get_levels(const HwMmu *mmu)
{
  return mmu->levels;
}

guint64
hw_mmu_get_root(const HwMmu *mmu)
{
  return mmu->root;
}

typedef struct {
  const HwMmu *mmu;
  guint64 root, va;
  HwTranslation *out;
  GError **error;
  gboolean ok;
} Walk;

static void
run_walk(gpointer data)
{
  Walk *w = data;
  w->ok = w->mmu->ops->walk(w->mmu, w->root, w->va, w->out, w->error);
}

static gboolean
walk_guarded(const HwMmu *mmu, guint64 root, guint64 va, HwTranslation *out, GError **error)
{
  Walk w = { mmu, root, va, out, error, FALSE };
  if (hw_guarded(run_walk, &w))
    return w.ok;
  g_clear_error(error);
  g_set_error(error, HW_ERROR, HW_ERROR_GONE,
              "guest memory vanished while walking page tables (did QEMU exit?)");
  return FALSE;
}

gboolean
hw_mmu_translate(const HwMmu *mmu, guint64 va, HwTranslation *out, GError **error)
{
  g_autoptr(GError) first = NULL;
  guint64 other;
  if (walk_guarded(mmu, mmu->root, va, out, &first))
    return TRUE;
  if (g_error_matches(first, HW_ERROR, HW_ERROR_UNMAPPED) && mmu->ops->retry_root &&
      mmu->ops->retry_root(mmu, va, mmu->root, &other) &&
      walk_guarded(mmu, other, va, out, NULL))
    return TRUE;
  g_propagate_error(error, g_steal_pointer(&first));
  return FALSE;
}

gboolean
hw_mmu_read(const HwMmu *mmu, guint64 va, void *buf, gsize len, GError **error)
{
  guint8 *dst = buf;
  while (len > 0) {
    HwTranslation t;
    if (!hw_mmu_translate(mmu, va, &t, error))
      return FALSE;
    guint64 in_page = t.page_size - (va & (t.page_size - 1));
    gsize chunk = (gsize)MIN((guint64)len, in_page);
    if (!hw_physmem_read(mmu->mem, t.pa, dst, chunk, error)) {
      g_prefix_error(error, "VA 0x%" G_GINT64_MODIFIER "x: ", va);
      return FALSE;
    }
    dst += chunk;
    va += chunk;
    len -= chunk;
  }
  return TRUE;
}

typedef struct {
  const HwMmu *mmu;
  HwHalf half;
  HwMmuTableFunc fn;
  gpointer data;
  guint64 max_tables, n;
} Tables;

static void
run_tables(gpointer data)
{
  Tables *t = data;
  t->n = t->mmu->ops->tables(t->mmu, t->mmu->root, t->half, t->fn, t->data, t->max_tables);
}

guint64
hw_mmu_for_each_table(const HwMmu *mmu, HwMmuTableFunc fn, gpointer data, guint64 max_tables)
{
  return hw_mmu_for_each_table_in(mmu, HW_HALF_BOTH, fn, data, max_tables);
}

guint64
hw_mmu_for_each_table_in(const HwMmu *mmu, HwHalf half, HwMmuTableFunc fn, gpointer data,
                         guint64 max_tables)
{
  Tables t = { mmu, half, fn, data, max_tables, 0 };
  /* The memory vanished: what was visited is all there is (counted as none). */
  return hw_guarded(run_tables, &t) ? t.n : 0;
}

typedef struct {
  const HwMmu *mmu;
  HwHalf half;
  HwMmuMappingFunc fn;
  gpointer data;
  guint64 max_tables, n;
  gboolean stop;
} Mappings;

static void
run_mappings(gpointer data)
{
  Mappings *m = data;
  m->n = m->mmu->ops->mappings(m->mmu, m->mmu->root, m->half, m->fn, m->data, m->max_tables,
                               &m->stop);
}

guint64
hw_mmu_for_each_mapping(const HwMmu *mmu, HwHalf half, HwMmuMappingFunc fn, gpointer data,
                        guint64 max_tables)
{
  Mappings m = { mmu, half, fn, data, max_tables, 0, FALSE };
  /* The memory vanished: the mappings seen so far are all there is. */
  return hw_guarded(run_mappings, &m) ? m.n : 0;
}

guint64
hw_mmu_hole_end(const HwMmu *mmu, guint64 va, const HwTranslation *failed)
{
  guint64 next = (va | 4095) + 1;
  if (failed->levels == 0 || failed->levels > mmu->levels || failed->va != va)
    return next;
  guint64 e = failed->entry[failed->levels - 1];
  if (e & 1)   /* present (x86-64) or valid (AArch64): failed for another reason */
    return next;
  guint64 span = mmu->ops->entry_span(mmu, va, failed->levels - 1);
  guint64 end = (va & ~(span - 1)) + span;
  return end > va ? end : G_MAXUINT64;   /* the top of the address space */
}
