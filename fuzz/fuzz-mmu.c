/* Fuzz the page walkers over arbitrary table memory: a 64-byte header picks the arch
 * and its registers (roots reduced into RAM, so walks get somewhere) and four VAs; the
 * rest of the input is guest RAM at GPA 0. */
#include <haywire/haywire.h>

#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

typedef struct {
  guint8 mode;          /* bit 0: AArch64; bit 1: LA57; bit 2: NXE */
  guint8 pad[7];
  guint64 a, b, c;      /* x86-64: CR3 = a; AArch64: TTBR0 = a, TTBR1 = b, TCR = c */
  guint64 va[4];
} Header;

/* Each leaf must be aligned to its size and canonical: what the walk promises. */
static gboolean
count_mapping(const HwMapping *m, gpointer data)
{
  if (m->size == 0 || (m->size & (m->size - 1)) != 0 || (m->pa & (m->size - 1)) != 0 ||
      (m->va & (m->size - 1)) != 0)
    __builtin_trap();
  return ++*(guint64 *)data < 20000;
}

static gboolean
count_table(guint64 gpa, guint level, gpointer data)
{
  (*(guint *)data)++;
  return TRUE;
}

static void
exercise(const HwMmu *mmu, const Header *h)
{
  for (guint i = 0; i < G_N_ELEMENTS(h->va); i++) {
    HwTranslation t;
    guint64 va = h->va[i];
    for (guint step = 0; step < 8; step++) {
      if (hw_mmu_translate(mmu, va, &t, NULL)) {
        guint8 buf[64];
        hw_mmu_read(mmu, va, buf, sizeof buf, NULL);
        va += t.page_size;
      } else {
        guint64 next = hw_mmu_hole_end(mmu, va, &t);
        if (next <= va)
          break;
        va = next;
      }
    }
  }
  guint n = 0;
  hw_mmu_for_each_table(mmu, count_table, &n, 512);
  guint64 leaves = 0;
  for (HwHalf half = HW_HALF_BOTH; half <= HW_HALF_HIGH; half++)
    hw_mmu_for_each_mapping(mmu, half, count_mapping, &leaves, 64);
  guint64 roots[8];
  guint k = hw_mmu_kernel_root_candidates(mmu, roots, G_N_ELEMENTS(roots));
  for (guint i = 0; i < k; i++) {
    HwMmu *other = hw_mmu_copy_with_kernel_root(mmu, roots[i]);
    HwTranslation t;
    hw_mmu_translate(other, h->va[0], &t, NULL);
    hw_mmu_free(other);
  }
  HwMmu *proc = hw_mmu_copy_with_root(mmu, h->b);
  HwTranslation t;
  hw_mmu_translate(proc, h->va[1], &t, NULL);
  hw_mmu_get_page_size(proc, h->va[1]);
  hw_mmu_free(proc);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
  Header h;
  if (size < sizeof h + 4096 || size > (4u << 20))
    return 0;
  memcpy(&h, data, sizeof h);
  const guint8 *ram = data + sizeof h;
  guint64 ram_size = (size - sizeof h) & ~4095ull;
  HwRamRange range = { 0, ram_size, 0 };
  HwPhysMem *mem = hw_physmem_new_from_data(ram, (gsize)ram_size, &range, 1, NULL);
  if (mem == NULL)
    return 0;
  HwMmu *mmu = NULL;
  if (h.mode & 1) {
    /* Keep the TTBRs' low bits (CnP, LPA2's BADDR[51:48]) and ASID; reduce the rest. */
    HwAArch64Paging p = { .ttbr0 = (h.a & 0xffff000000000fffull) | ((h.a % ram_size) & ~0xfffull),
                          .ttbr1 = (h.b & 0xffff000000000fffull) | ((h.b % ram_size) & ~0xfffull),
                          .tcr = h.c };
    mmu = hw_mmu_new_aarch64(mem, &p, NULL);
  } else {
    HwX86Paging p = { .cr3 = (h.a % ram_size) | (h.a & 0x1fffull), .la57 = (h.mode >> 1) & 1,
                      .nxe = (h.mode >> 2) & 1 };
    mmu = hw_mmu_new_x86_64(mem, &p);
  }
  if (mmu != NULL) {
    exercise(mmu, &h);
    hw_mmu_free(mmu);
  }
  hw_physmem_free(mem);
  return 0;
}
