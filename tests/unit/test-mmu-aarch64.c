/* The AArch64 walker over synthetic page tables: 4, 16 and 64 KiB granules, 2 to 4
 * levels, blocks, both halves, TBI, ASID/CnP bits in the TTBRs, table permissions,
 * invalid descriptors, TCRs it must refuse, hole skipping and table enumeration. */
#include <haywire/haywire.h>

#include <string.h>

#define RAM_SIZE (64u << 20)
#define VALID 1ull
#define TABLE 3ull           /* valid + table/page */
#define BLOCK 1ull
#define AF (1ull << 10)
#define AP_EL0 (1ull << 6)
#define AP_RO (1ull << 7)
#define UXN (1ull << 54)
#define PXN (1ull << 53)
#define APTABLE_NO_EL0 (1ull << 61)
#define APTABLE_RO (1ull << 62)

/* TCR_EL1 fields. */
#define T0SZ(n) ((guint64)(n))
#define T1SZ(n) ((guint64)(n) << 16)
#define TG0_4K (0ull << 14)
#define TG0_64K (1ull << 14)
#define TG0_16K (2ull << 14)
#define TG1_16K (1ull << 30)
#define TG1_4K (2ull << 30)
#define TG1_64K (3ull << 30)
#define EPD0 (1ull << 7)
#define TBI0 (1ull << 37)

typedef struct {
  guint8 *ram;
  HwPhysMem *mem;
  guint64 next;         /* next free table, bump-allocated */
  guint page_shift;
} Arm;

static void
arm_free(Arm *a)
{
  hw_physmem_free(a->mem);
  g_free(a->ram);
  g_free(a);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Arm, arm_free)

static Arm *
arm_new(guint page_shift)
{
  Arm *a = g_new0(Arm, 1);
  const HwRamRange range = { 0, RAM_SIZE, 0 };
  a->ram = g_malloc0(RAM_SIZE);
  a->mem = hw_physmem_new_from_data(a->ram, RAM_SIZE, &range, 1, NULL);
  a->page_shift = page_shift;
  a->next = 1u << 20;
  return a;
}

static guint64
new_table(Arm *a)
{
  guint64 t = a->next;
  a->next += 1ull << a->page_shift;
  g_assert_cmpuint(a->next, <=, 32u << 20);
  return t;
}

static guint64
get(Arm *a, guint64 gpa)
{
  guint64 v;
  memcpy(&v, a->ram + gpa, 8);
  return v;
}

static void
set(Arm *a, guint64 gpa, guint64 v)
{
  memcpy(a->ram + gpa, &v, 8);
}

/* Map VA under the table ROOT (whose half has VA_BITS) with a leaf at LEAF_LEVEL (3:
 * page) whose descriptor is DESC; missing tables are made. Returns the leaf's GPA. */
static guint64
map(Arm *a, guint64 root, guint va_bits, guint64 va, guint leaf_level, guint64 desc)
{
  guint g = a->page_shift, s = g - 3;
  guint levels = (va_bits - g + s - 1) / s, start = 4 - levels;
  guint64 table = root;
  for (guint level = start; level < leaf_level; level++) {
    guint shift = g + s * (3 - level);
    guint width = MIN(s, va_bits - shift);
    guint64 egpa = table + ((va >> shift) & ((1ull << width) - 1)) * 8;
    guint64 e = get(a, egpa);
    if (!(e & VALID)) {
      e = new_table(a) | TABLE;
      set(a, egpa, e);
    }
    table = e & 0x0000fffffffff000ull;
  }
  guint shift = g + s * (3 - leaf_level);
  guint width = MIN(s, va_bits - shift);
  guint64 egpa = table + ((va >> shift) & ((1ull << width) - 1)) * 8;
  set(a, egpa, desc);
  return egpa;
}

static HwMmu *
mmu_for(Arm *a, guint64 ttbr0, guint64 ttbr1, guint64 tcr)
{
  g_autoptr(GError) error = NULL;
  HwAArch64Paging p = { ttbr0, ttbr1, tcr };
  HwMmu *mmu = hw_mmu_new_aarch64(a->mem, &p, &error);
  g_assert_no_error(error);
  return mmu;
}

static void
assert_pa(HwMmu *mmu, guint64 va, guint64 pa, guint64 page_size)
{
  g_autoptr(GError) error = NULL;
  HwTranslation t;
  g_assert_true(hw_mmu_translate(mmu, va, &t, &error));
  g_assert_no_error(error);
  g_assert_cmphex(t.pa, ==, pa);
  g_assert_cmphex(t.page_size, ==, page_size);
}

static void
assert_unmapped(HwMmu *mmu, guint64 va)
{
  g_autoptr(GError) error = NULL;
  HwTranslation t;
  g_assert_false(hw_mmu_translate(mmu, va, &t, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_UNMAPPED);
}

/* Linux arm64 as Debian builds it: 4 KiB pages, 48-bit VAs, 4 levels in both halves;
 * KPTI's ASID in TTBR1 and CnP in both must not change the walk. */
static void
test_4k_48bit(void)
{
  g_autoptr(Arm) a = arm_new(12);
  guint64 user = new_table(a), kernel = new_table(a);
  const guint64 uva = 0x0000aaaad1e2f000ull, kva = 0xffff800008010000ull;
  map(a, user, 48, uva, 3, 0x200000 | TABLE | AF | AP_EL0);
  map(a, kernel, 48, kva, 3, 0x300000 | TABLE | AF | UXN);
  map(a, kernel, 48, 0xffff000040000000ull, 1, 0x40000000 | BLOCK | AF);   /* 1 GiB */
  map(a, user, 48, 0x0000ffff00200000ull, 2, 0x600000 | BLOCK | AF);       /* 2 MiB */
  guint64 tcr = T0SZ(16) | TG0_4K | T1SZ(16) | TG1_4K;
  g_autoptr(HwMmu) mmu = mmu_for(a, user | 1, kernel | (0x1234ull << 48) | 1, tcr);
  g_assert_cmpuint(hw_mmu_get_levels(mmu), ==, 4);
  assert_pa(mmu, uva + 0x123, 0x200123, 4096);
  assert_pa(mmu, kva + 8, 0x300008, 4096);
  assert_pa(mmu, 0xffff000040000000ull + 0x12345678, 0x40000000 + 0x12345678, 1u << 30);
  assert_pa(mmu, 0x0000ffff00200000ull + 0x1234, 0x601234, 2u << 20);
  assert_unmapped(mmu, uva + 4096);
  /* Between the halves: neither TTBR serves it. */
  assert_unmapped(mmu, 0x0001000000000000ull);
  assert_unmapped(mmu, 0xfffe000000000000ull);

  HwTranslation t;
  g_assert_true(hw_mmu_translate(mmu, uva, &t, NULL));
  g_assert_true(t.user);
  g_assert_true(t.writable);
  g_assert_false(t.nx);
  g_assert_cmpuint(t.levels, ==, 4);
  g_assert_true(hw_mmu_translate(mmu, kva, &t, NULL));
  g_assert_false(t.user);
  g_assert_false(t.nx);   /* UXN only: the kernel may execute it */
}

/* 16 KiB granule, 47-bit kernel half (3 levels: 11 + 11 + 11 bits + 14) and a 36-bit
 * user half (2 levels) with a 32 MiB block. */
static void
test_16k(void)
{
  g_autoptr(Arm) a = arm_new(14);
  guint64 user = new_table(a), kernel = new_table(a);
  const guint64 kva = 0xffff800012344000ull, uva = 0x0000000123450000ull;
  map(a, kernel, 47, kva, 3, 0x1000000 | TABLE | AF);
  map(a, user, 36, uva & ~((32ull << 20) - 1), 2, 0x2000000 | BLOCK | AF | AP_EL0);
  guint64 tcr = T0SZ(28) | TG0_16K | T1SZ(17) | TG1_16K;
  g_autoptr(HwMmu) mmu = mmu_for(a, user, kernel, tcr);
  g_assert_cmpuint(hw_mmu_get_levels(mmu), ==, 2);
  assert_pa(mmu, kva + 0x3fff, 0x1003fff, 16384);
  assert_pa(mmu, uva, 0x2000000 + (uva & ((32ull << 20) - 1)), 32u << 20);
  /* 36 bits: the next address is out of the user half. */
  assert_unmapped(mmu, 1ull << 36);
}

/* 64 KiB granule, 42-bit halves: 2 levels (13 + 13 bits + 16), a 512 MiB block. */
static void
test_64k(void)
{
  g_autoptr(Arm) a = arm_new(16);
  guint64 user = new_table(a), kernel = new_table(a);
  const guint64 uva = 0x0000012345670000ull & ((1ull << 42) - 1);
  map(a, user, 42, uva, 3, 0x1230000 | TABLE | AF | AP_EL0 | AP_RO | UXN);
  map(a, kernel, 42, 0xfffffc0020000000ull, 2, 0x20000000 | BLOCK | AF);
  guint64 tcr = T0SZ(22) | TG0_64K | T1SZ(22) | TG1_64K;
  g_autoptr(HwMmu) mmu = mmu_for(a, user, kernel, tcr);
  g_assert_cmpuint(hw_mmu_get_levels(mmu), ==, 2);
  assert_pa(mmu, uva + 0xfedc, 0x123fedc, 65536);
  assert_pa(mmu, 0xfffffc0020000000ull + 0x1234567, 0x21234567, 512u << 20);
  HwTranslation t;
  g_assert_true(hw_mmu_translate(mmu, uva, &t, NULL));
  g_assert_false(t.writable);
  g_assert_true(t.nx);
}

/* Table descriptors' APTable and XNTable bits limit everything below them; a level-3
 * block encoding and a level-0 block are not mappings; TBI lets tagged pointers in. */
static void
test_attributes_and_invalid(void)
{
  g_autoptr(Arm) a = arm_new(12);
  guint64 user = new_table(a), kernel = new_table(a);
  const guint64 va = 0x0000007fff000000ull;
  guint64 leaf = map(a, user, 39, va, 3, 0x500000 | TABLE | AF | AP_EL0);
  guint64 tcr = T0SZ(25) | TG0_4K | T1SZ(25) | TG1_4K | TBI0;
  g_autoptr(HwMmu) mmu = mmu_for(a, user, kernel, tcr);
  g_assert_cmpuint(hw_mmu_get_levels(mmu), ==, 3);
  assert_pa(mmu, va, 0x500000, 4096);
  assert_pa(mmu, va | (0x5aull << 56), 0x500000, 4096);   /* a tag in the top byte */

  /* The level-1 table descriptor above it: read-only, no EL0, no execute below. */
  guint64 l1 = user + ((va >> 30) & 511) * 8;
  set(a, l1, get(a, l1) | APTABLE_RO | APTABLE_NO_EL0 | (1ull << 60));
  HwTranslation t;
  g_assert_true(hw_mmu_translate(mmu, va, &t, NULL));
  g_assert_false(t.writable);
  g_assert_false(t.user);
  set(a, l1, get(a, l1) & ~(APTABLE_RO | APTABLE_NO_EL0 | (1ull << 60)));

  set(a, leaf, 0x500000 | BLOCK | AF);   /* 0b01 at level 3: reserved */
  assert_unmapped(mmu, va);
  set(a, leaf, 0x500000 | 2);            /* bit 0 clear: invalid */
  assert_unmapped(mmu, va);
  set(a, leaf, 0x500000 | TABLE | AF);

  /* A table outside RAM. */
  set(a, l1, 0x7ff000000000ull | TABLE);
  g_autoptr(GError) error = NULL;
  g_assert_false(hw_mmu_translate(mmu, va, &t, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE);
}

/* TCRs the walker refuses, each with its reason; EPD0 disables the user half. */
static void
test_bad_tcr(void)
{
  g_autoptr(Arm) a = arm_new(12);
  const guint64 bad[] = {
    T0SZ(16) | (3ull << 14) | T1SZ(16) | TG1_4K,   /* TG0 = 3: reserved */
    T0SZ(16) | TG0_4K | T1SZ(16) | (0ull << 30),   /* TG1 = 0: reserved */
    T0SZ(12) | TG0_4K | T1SZ(16) | TG1_4K,         /* 52-bit VAs: not supported */
    T0SZ(60) | TG0_4K | T1SZ(16) | TG1_4K,         /* 4 VA bits: less than a page */
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    HwAArch64Paging p = { 0x100000, 0x101000, bad[i] };
    g_assert_null(hw_mmu_new_aarch64(a->mem, &p, &error));
    g_assert_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED);
  }
  guint64 kernel = new_table(a);
  map(a, kernel, 48, 0xffff000000000000ull, 3, 0x700000 | TABLE | AF);
  g_autoptr(HwMmu) mmu = mmu_for(a, 0, kernel, T0SZ(16) | TG0_4K | EPD0 | T1SZ(16) | TG1_4K);
  assert_unmapped(mmu, 0x1000);
  assert_pa(mmu, 0xffff000000000000ull, 0x700000, 4096);
}

/* The registers route (as the GDB stub will give them) and a process's root in
 * TTBR0's place. */
static void
test_from_regs(void)
{
  g_autoptr(Arm) a = arm_new(12);
  guint64 user = new_table(a), other = new_table(a), kernel = new_table(a);
  map(a, user, 48, 0x400000, 3, 0x800000 | TABLE | AF | AP_EL0);
  map(a, other, 48, 0x400000, 3, 0x900000 | TABLE | AF | AP_EL0);
  g_autoptr(HwRegs) regs = hw_regs_new(HW_ARCH_AARCH64);
  hw_regs_set(regs, "TTBR0_EL1", user);
  hw_regs_set(regs, "TTBR1_EL1", kernel);
  hw_regs_set(regs, "TCR_EL1", T0SZ(16) | TG0_4K | T1SZ(16) | TG1_4K);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwMmu) mmu = hw_mmu_new_from_regs(a->mem, regs, &error);
  g_assert_no_error(error);
  assert_pa(mmu, 0x400000, 0x800000, 4096);
  g_autoptr(HwMmu) proc = hw_mmu_new_from_root(a->mem, HW_ARCH_AARCH64, other, regs, &error);
  g_assert_no_error(error);
  assert_pa(proc, 0x400000, 0x900000, 4096);
  g_assert_cmphex(hw_mmu_get_root(proc), ==, other);

  g_autoptr(HwRegs) partial = hw_regs_new(HW_ARCH_AARCH64);
  hw_regs_set(partial, "TTBR0_EL1", user);
  g_assert_null(hw_mmu_new_from_regs(a->mem, partial, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_PROTOCOL);
}

/* Kernel roots: under KPTI a vCPU at EL0 has TTBR1 on trampoline tables; the candidates
 * name its neighbours, and a copy with another kernel root walks those. */
static void
test_kernel_roots(void)
{
  g_autoptr(Arm) a = arm_new(12);
  guint64 user = new_table(a), tramp = new_table(a), reserved = new_table(a);
  guint64 swapper = new_table(a);
  g_assert_cmphex(swapper, ==, tramp + 2 * 4096);
  g_assert_cmphex(reserved, ==, tramp + 4096);
  map(a, swapper, 48, 0xffff800008010000ull, 3, 0x700000 | TABLE | AF);
  map(a, user, 48, 0x400000, 3, 0x800000 | TABLE | AF | AP_EL0);
  /* TTBR1 with an ASID (bit 48: KPTI's user ASID) and CnP. */
  g_autoptr(HwRegs) regs = hw_regs_new(HW_ARCH_AARCH64);
  hw_regs_set(regs, "TTBR0_EL1", user | (3ull << 48) | 1);
  hw_regs_set(regs, "TTBR1_EL1", tramp | (3ull << 48) | 1);
  hw_regs_set(regs, "TCR_EL1", T0SZ(16) | TG0_4K | T1SZ(16) | TG1_4K);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwMmu) mmu = hw_mmu_new_from_regs(a->mem, regs, &error);
  g_assert_no_error(error);
  g_assert_cmpint(hw_mmu_get_arch(mmu), ==, HW_ARCH_AARCH64);
  g_assert_cmphex(hw_mmu_get_kernel_root(mmu), ==, tramp);
  assert_unmapped(mmu, 0xffff800008010000ull);
  guint64 roots[8];
  guint n = hw_mmu_kernel_root_candidates(mmu, roots, G_N_ELEMENTS(roots));
  g_assert_cmpuint(n, >=, 3);
  g_assert_cmphex(roots[0], ==, tramp);
  g_assert_cmphex(roots[1], ==, swapper);   /* two pages up: 6.1's layout, tried first */
  g_assert_cmpuint(hw_mmu_kernel_root_candidates(mmu, roots, 1), ==, 1);
  g_autoptr(HwMmu) k = hw_mmu_copy_with_kernel_root(mmu, swapper);
  g_assert_cmphex(hw_mmu_get_kernel_root(k), ==, swapper);
  assert_pa(k, 0xffff800008010000ull, 0x700000, 4096);
  assert_pa(k, 0x400000, 0x800000, 4096);   /* the user half is untouched */
  g_assert_cmphex(hw_mmu_get_page_size(k, 0xffff800008010000ull), ==, 4096);
  /* A process's tables in the user half, the kernel half kept. */
  guint64 other = new_table(a);
  map(a, other, 48, 0x400000, 3, 0x900000 | TABLE | AF | AP_EL0);
  g_autoptr(HwMmu) proc = hw_mmu_copy_with_root(k, other);
  assert_pa(proc, 0x400000, 0x900000, 4096);
  assert_pa(proc, 0xffff800008010000ull, 0x700000, 4096);
  g_assert_cmphex(hw_mmu_get_root(proc), ==, other);
  /* Without registers there is no AArch64 paging mode to assume. */
  g_assert_null(hw_mmu_new_from_root(a->mem, HW_ARCH_AARCH64, other, NULL, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
}

static gboolean
count(guint64 gpa, guint level, gpointer data)
{
  (*(guint *)data)++;
  return TRUE;
}

/* Hole skipping follows the granule; table enumeration covers both halves. */
static void
test_holes_and_tables(void)
{
  g_autoptr(Arm) a = arm_new(16);
  guint64 user = new_table(a), kernel = new_table(a);
  map(a, user, 42, 0x10000, 3, 0x1230000 | TABLE | AF);
  map(a, kernel, 42, 0xfffffc0000000000ull, 3, 0x1240000 | TABLE | AF);
  g_autoptr(HwMmu) mmu = mmu_for(a, user, kernel, T0SZ(22) | TG0_64K | T1SZ(22) | TG1_64K);
  HwTranslation t;
  /* Level 2's entry 1 is empty: the hole is its whole 512 MiB. */
  g_assert_false(hw_mmu_translate(mmu, 0x20000000, &t, NULL));
  g_assert_cmphex(hw_mmu_hole_end(mmu, 0x20000000, &t), ==, 0x40000000);
  /* Page 2 of the level-3 table is empty: the hole is one 64 KiB page. */
  g_assert_false(hw_mmu_translate(mmu, 0x20000, &t, NULL));
  g_assert_cmphex(hw_mmu_hole_end(mmu, 0x20000, &t), ==, 0x30000);
  guint n = 0;
  g_assert_cmpuint(hw_mmu_for_each_table(mmu, count, &n, 100), ==, 4);
  g_assert_cmpuint(n, ==, 4);
}

static gboolean
collect(const HwMapping *m, gpointer data)
{
  g_array_append_vals(data, m, 1);
  return TRUE;
}

/* Every leaf of both halves with its VA (the kernel half's from the top of the address
 * space), size and the walk's permissions; each half alone. */
static void
test_mappings(void)
{
  g_autoptr(Arm) a = arm_new(12);
  guint64 user = new_table(a), kernel = new_table(a);
  const guint64 uva = 0x0000aaaad1e2f000ull, kva = 0xffff800008010000ull;
  map(a, user, 48, uva, 3, 0x200000 | TABLE | AF | AP_EL0);
  map(a, user, 48, 0x0000ffff00200000ull, 2, 0x600000 | BLOCK | AF | AP_RO | AP_EL0 | UXN);
  map(a, kernel, 48, 0xffff000040000000ull, 1, 0x40000000 | BLOCK | AF);
  map(a, kernel, 48, kva, 3, 0x300000 | TABLE | AF | UXN | PXN);
  guint64 tcr = T0SZ(16) | TG0_4K | T1SZ(16) | TG1_4K;
  g_autoptr(HwMmu) mmu = mmu_for(a, user | 1, kernel | 1, tcr);
  g_autoptr(GArray) got = g_array_new(FALSE, FALSE, sizeof(HwMapping));
  hw_mmu_for_each_mapping(mmu, HW_HALF_BOTH, collect, got, 1000);
  static const HwMapping want[] = {
    { 0x0000aaaad1e2f000ull, 0x200000, 4096, TRUE, TRUE, FALSE },
    { 0x0000ffff00200000ull, 0x600000, 2u << 20, FALSE, TRUE, TRUE },
    { 0xffff000040000000ull, 0x40000000, 1u << 30, TRUE, FALSE, FALSE },
    { 0xffff800008010000ull, 0x300000, 4096, TRUE, FALSE, TRUE },
  };
  g_assert_cmpuint(got->len, ==, G_N_ELEMENTS(want));
  for (guint i = 0; i < got->len; i++) {
    const HwMapping *m = &g_array_index(got, HwMapping, i);
    g_assert_cmphex(m->va, ==, want[i].va);
    g_assert_cmphex(m->pa, ==, want[i].pa);
    g_assert_cmphex(m->size, ==, want[i].size);
    g_assert_cmpint(m->writable, ==, want[i].writable);
    g_assert_cmpint(m->user, ==, want[i].user);
    g_assert_cmpint(m->nx, ==, want[i].nx);
    HwTranslation t;
    g_assert_true(hw_mmu_translate(mmu, m->va, &t, NULL));
    g_assert_cmphex(t.pa, ==, m->pa);
    g_assert_cmpint(t.nx, ==, m->nx);
  }
  g_array_set_size(got, 0);
  hw_mmu_for_each_mapping(mmu, HW_HALF_LOW, collect, got, 1000);
  g_assert_cmpuint(got->len, ==, 2);
  g_array_set_size(got, 0);
  hw_mmu_for_each_mapping(mmu, HW_HALF_HIGH, collect, got, 1000);
  g_assert_cmpuint(got->len, ==, 2);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/mmu/aarch64/4k-48bit", test_4k_48bit);
  g_test_add_func("/mmu/aarch64/mappings", test_mappings);
  g_test_add_func("/mmu/aarch64/16k", test_16k);
  g_test_add_func("/mmu/aarch64/64k", test_64k);
  g_test_add_func("/mmu/aarch64/attributes-and-invalid", test_attributes_and_invalid);
  g_test_add_func("/mmu/aarch64/bad-tcr", test_bad_tcr);
  g_test_add_func("/mmu/aarch64/from-regs", test_from_regs);
  g_test_add_func("/mmu/aarch64/holes-and-tables", test_holes_and_tables);
  g_test_add_func("/mmu/aarch64/kernel-roots", test_kernel_roots);
  return g_test_run();
}
