/* x86-64 page walks over synthetic page tables in a buffer served as guest RAM. */
#include <haywire/mmu.h>
#include <haywire/guest.h>
#include <haywire/physmem.h>
#include <haywire/error.h>

#include <glib/gstdio.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Guest RAM: 4 MiB at gpa 0 (file offset 2 MiB) and 2 MiB at 4 GiB (file offset 0). */
#define LOW_SIZE 0x400000ull
#define LOW_FILE_OFF 0x200000ull
#define HIGH_GPA 0x100000000ull
#define HIGH_SIZE 0x200000ull
#define HIGH_FILE_OFF 0x0ull
#define FILE_SIZE 0x600000ull

#define TABLES_START 0x100000ull  /* page tables are handed out from here ... */
#define TABLES_END 0x1e0000ull    /* ... to here; fixed tables and data pages above */

#define P (1ull << 0)
#define RW (1ull << 1)
#define US (1ull << 2)
#define PS (1ull << 7)
#define PAT_LARGE (1ull << 12)
#define NX (1ull << 63)
#define ADDR_MASK 0x000ffffffffff000ull

#define KiB4 0x1000ull
#define MiB2 0x200000ull
#define GiB1 0x40000000ull

static const HwRamRange ram_ranges[] = {
  { 0, LOW_SIZE, LOW_FILE_OFF },
  { HIGH_GPA, HIGH_SIZE, HIGH_FILE_OFF },
};

typedef struct {
  guint8 *data;          /* the memory file */
  HwPhysMem *mem;
  guint64 next_table;
} Ram;

static void
ram_free(Ram *ram)
{
  hw_physmem_free(ram->mem);
  g_free(ram->data);
  g_free(ram);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Ram, ram_free)

/* The byte at file offset OFF before any table is written there. */
static guint8
pattern(guint64 off)
{
  return (guint8)((off * 11 + (off >> 9) * 5 + 1) & 0xff);
}

static Ram *
ram_new(void)
{
  g_autoptr(Ram) ram = g_new0(Ram, 1);
  g_autoptr(GError) error = NULL;
  static guint8 *fresh;   /* the file before any table is written; made once */
  if (fresh == NULL) {
    fresh = g_malloc(FILE_SIZE);
    for (guint64 i = 0; i < FILE_SIZE; i++)
      fresh[i] = pattern(i);
  }
  ram->data = g_memdup2(fresh, FILE_SIZE);
  ram->mem = hw_physmem_new_from_data(ram->data, FILE_SIZE, ram_ranges,
                                      G_N_ELEMENTS(ram_ranges), &error);
  g_assert_no_error(error);
  ram->next_table = TABLES_START;
  return g_steal_pointer(&ram);
}

/* Where guest-physical GPA (LEN bytes) sits in the file buffer. */
static guint8 *
ram_at(Ram *ram, guint64 gpa, gsize len)
{
  for (guint i = 0; i < G_N_ELEMENTS(ram_ranges); i++) {
    const HwRamRange *r = &ram_ranges[i];
    if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
      return ram->data + r->file_offset + (gpa - r->gpa);
  }
  g_error("0x%" G_GINT64_MODIFIER "x is not in the test RAM", gpa);
}

static guint64
ram_get(Ram *ram, guint64 gpa)
{
  guint64 v;
  memcpy(&v, ram_at(ram, gpa, 8), 8);
  return v;
}

static void
ram_set(Ram *ram, guint64 gpa, guint64 v)
{
  memcpy(ram_at(ram, gpa, 8), &v, 8);
}

/* A zeroed 4 KiB table at a fixed GPA. */
static guint64
ram_table_at(Ram *ram, guint64 gpa)
{
  memset(ram_at(ram, gpa, KiB4), 0, KiB4);
  return gpa;
}

static guint64
ram_new_table(Ram *ram)
{
  g_assert_cmphex(ram->next_table, <, TABLES_END);
  guint64 t = ram_table_at(ram, ram->next_table);
  ram->next_table += KiB4;
  return t;
}

static guint
index_at(guint64 va, guint level)
{
  return (guint)((va >> (12 + 9 * (level - 1))) & 511);
}

/* GPA of VA's entry at LEVEL (LEVELS..1) under ROOT; the tables above must exist. */
static guint64
ram_entry_gpa(Ram *ram, guint64 root, guint levels, guint64 va, guint level)
{
  guint64 table = root & ADDR_MASK;
  for (guint l = levels; l > level; l--) {
    guint64 e = ram_get(ram, table + index_at(va, l) * 8);
    g_assert_true(e & P);
    table = e & ADDR_MASK;
  }
  return table + index_at(va, level) * 8;
}

/* Map VA under ROOT with a page at LEVEL (1: 4 KiB, 2: 2 MiB, 3: 1 GiB) whose entry is
 * LEAF (address and flags; PS is added for large pages). Missing tables are made with
 * P|RW|US. Returns the GPA of the leaf entry. */
static guint64
ram_map(Ram *ram, guint64 root, guint levels, guint64 va, guint level, guint64 leaf)
{
  guint64 table = root & ADDR_MASK;
  for (guint l = levels; l > level; l--) {
    guint64 egpa = table + index_at(va, l) * 8;
    guint64 e = ram_get(ram, egpa);
    if (!(e & P)) {
      e = ram_new_table(ram) | P | RW | US;
      ram_set(ram, egpa, e);
    }
    table = e & ADDR_MASK;
  }
  guint64 egpa = table + index_at(va, level) * 8;
  ram_set(ram, egpa, leaf | (level > 1 ? PS : 0));
  return egpa;
}

static void
ram_set_bits(Ram *ram, guint64 gpa, guint64 set, guint64 clear)
{
  ram_set(ram, gpa, (ram_get(ram, gpa) & ~clear) | set);
}

static HwMmu *
make_mmu(Ram *ram, guint64 cr3, gboolean la57, gboolean nxe)
{
  HwX86Paging paging = { .cr3 = cr3, .la57 = la57, .nxe = nxe };
  return hw_mmu_new_x86_64(ram->mem, &paging);
}

/* hw_mmu_read of LEN bytes at VA must give the bytes at guest-physical PA. */
static void
assert_read(HwMmu *mmu, Ram *ram, guint64 va, guint64 pa, gsize len)
{
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *buf = g_malloc0(len);
  g_assert_true(hw_mmu_read(mmu, va, buf, len, &error));
  g_assert_no_error(error);
  g_assert_cmpmem(buf, len, ram_at(ram, pa, len), len);
}

/* ---- good translations ------------------------------------------------------------------ */

typedef struct {
  const char *name;
  gboolean la57;
  guint64 cr3_extra;     /* PCID and bit 63: must be masked off */
  guint64 va;
  guint level;           /* of the page: 1 4 KiB, 2 2 MiB, 3 1 GiB */
  guint64 pa_page;
  guint64 leaf_extra;    /* further bits in the leaf that are no address bits */
} MapCase;

static const MapCase map_cases[] = {
  { "4-level/4k-page", FALSE, 0, 0x00007f1234567abcull, 1, 0x305000, 0 },
  { "4-level/4k-page-kernel", FALSE, 0, 0xffffffff81000123ull, 1, 0x308000, 0 },
  { "4-level/4k-page-pcid", FALSE, 0x123 | (1ull << 63), 0x00007f1234567abcull, 1,
    0x305000, 0 },
  { "4-level/4k-page-high-ram", FALSE, 0, 0x0000000000401ff8ull, 1, HIGH_GPA + 0x7000, 0 },
  { "4-level/2m-page", FALSE, 0, 0xffffc90000323456ull, 2, 0x200000, PAT_LARGE },
  { "4-level/2m-page-high-ram", FALSE, 0, 0x00007f0000012345ull, 2, HIGH_GPA, PAT_LARGE },
  { "4-level/1g-page", FALSE, 0, 0xffff888000123456ull, 3, 0, PAT_LARGE },
  { "4-level/1g-page-high-ram", FALSE, 0xfff, 0xffff888100001234ull, 3, HIGH_GPA, PAT_LARGE },
  { "la57/4k-page", TRUE, 0x7ff | (1ull << 63), 0xff5a3456789ab123ull, 1, 0x306000, 0 },
  { "la57/4k-page-user", TRUE, 0, 0x00abcdef12345678ull, 1, 0x307000, 0 },
  { "la57/2m-page", TRUE, 0, 0xff11000040205678ull, 2, 0x200000, PAT_LARGE },
  { "la57/1g-page", TRUE, 0x1, 0x00c0000040001234ull, 3, HIGH_GPA, PAT_LARGE },
};

static void
test_map(gconstpointer data)
{
  const MapCase *c = data;
  g_autoptr(Ram) ram = ram_new();
  guint levels = c->la57 ? 5 : 4;
  guint64 root = ram_new_table(ram);
  guint64 size = 1ull << (12 + 9 * (c->level - 1));
  ram_map(ram, root, levels, c->va, c->level, c->pa_page | c->leaf_extra | P | RW | US);

  g_autoptr(HwMmu) mmu = make_mmu(ram, root | c->cr3_extra, c->la57, TRUE);
  g_assert_cmpuint(hw_mmu_get_levels(mmu), ==, levels);
  g_assert_cmphex(hw_mmu_get_root(mmu), ==, root);

  HwTranslation t;
  g_autoptr(GError) error = NULL;
  g_assert_true(hw_mmu_translate(mmu, c->va, &t, &error));
  g_assert_no_error(error);
  g_assert_cmphex(t.va, ==, c->va);
  g_assert_cmphex(t.pa, ==, c->pa_page + (c->va & (size - 1)));
  g_assert_cmphex(t.page_size, ==, size);
  g_assert_true(t.writable);
  g_assert_true(t.user);
  g_assert_false(t.nx);
  g_assert_cmphex(t.root_used, ==, root);
  g_assert_cmpuint(t.levels, ==, levels - c->level + 1);
  for (guint d = 0; d < t.levels; d++) {
    guint64 egpa = ram_entry_gpa(ram, root, levels, c->va, levels - d);
    g_assert_cmphex(t.entry_gpa[d], ==, egpa);
    g_assert_cmphex(t.entry[d], ==, ram_get(ram, egpa));
  }

  /* The bytes behind it, up to the end of the page and across into nothing. */
  gsize len = (gsize)MIN(64, size - (c->va & (size - 1)));
  assert_read(mmu, ram, c->va, t.pa, len);
}

/* ---- permissions ---------------------------------------------------------------------- */

typedef struct {
  const char *name;
  guint64 flags[4];      /* besides P, for PML4, PDPT, PD, PT */
  gboolean nxe;
  gboolean writable, user, nx;
} FlagsCase;

static const FlagsCase flags_cases[] = {
  { "all", { RW | US, RW | US, RW | US, RW | US }, TRUE, TRUE, TRUE, FALSE },
  { "none", { 0, 0, 0, 0 }, TRUE, FALSE, FALSE, FALSE },
  { "leaf-read-only", { RW | US, RW | US, RW | US, US }, TRUE, FALSE, TRUE, FALSE },
  { "pml4-read-only", { US, RW | US, RW | US, RW | US }, TRUE, FALSE, TRUE, FALSE },
  { "pd-supervisor", { RW | US, RW | US, RW, RW | US }, TRUE, TRUE, FALSE, FALSE },
  { "leaf-supervisor", { RW | US, RW | US, RW | US, RW }, TRUE, TRUE, FALSE, FALSE },
  { "leaf-nx", { RW | US, RW | US, RW | US, RW | US | NX }, TRUE, TRUE, TRUE, TRUE },
  { "leaf-nx-without-nxe", { RW | US, RW | US, RW | US, RW | US | NX }, FALSE,
    TRUE, TRUE, FALSE },
  { "pdpt-nx", { RW | US, RW | US | NX, RW | US, RW | US }, TRUE, TRUE, TRUE, TRUE },
  { "pdpt-nx-without-nxe", { RW | US, RW | US | NX, RW | US, RW | US }, FALSE,
    TRUE, TRUE, FALSE },
  { "pml4-nx-leaf-not", { RW | US | NX, RW | US, RW | US, RW | US }, TRUE, TRUE, TRUE, TRUE },
};

static void
test_flags(gconstpointer data)
{
  const FlagsCase *c = data;
  g_autoptr(Ram) ram = ram_new();
  const guint64 va = 0x00005555deadb000ull;
  guint64 root = ram_new_table(ram);
  ram_map(ram, root, 4, va, 1, 0x305000 | P);
  for (guint level = 4; level >= 1; level--)
    ram_set_bits(ram, ram_entry_gpa(ram, root, 4, va, level), c->flags[4 - level], RW | US);

  g_autoptr(HwMmu) mmu = make_mmu(ram, root, FALSE, c->nxe);
  HwTranslation t;
  g_autoptr(GError) error = NULL;
  g_assert_true(hw_mmu_translate(mmu, va + 0x10, &t, &error));
  g_assert_no_error(error);
  g_assert_cmphex(t.pa, ==, 0x305010);
  g_assert_cmpint(t.writable, ==, c->writable);
  g_assert_cmpint(t.user, ==, c->user);
  g_assert_cmpint(t.nx, ==, c->nx);
}

/* ---- walks that fail -------------------------------------------------------------------- */

typedef enum {
  BREAK_CLEAR_P,      /* the entry at LEVEL is not present */
  BREAK_SET_PS,       /* the entry at LEVEL gets PS */
  BREAK_POINT_AT,     /* the entry at LEVEL points at ADDR */
  BREAK_ROOT_AT,      /* CR3 is ADDR */
} BreakKind;

typedef struct {
  const char *name;
  gboolean la57;
  BreakKind kind;
  guint level;
  guint64 addr;
  gint code;             /* HwError */
  const char *message;   /* must occur in the error message */
} FaultCase;

#define VA4 0x00007f1234567abcull
#define VA5 0xff5a3456789ab123ull

static const FaultCase fault_cases[] = {
  { "4-level/not-present-pml4", FALSE, BREAK_CLEAR_P, 4, 0, HW_ERROR_UNMAPPED, "level-4" },
  { "4-level/not-present-pdpt", FALSE, BREAK_CLEAR_P, 3, 0, HW_ERROR_UNMAPPED, "level-3" },
  { "4-level/not-present-pd", FALSE, BREAK_CLEAR_P, 2, 0, HW_ERROR_UNMAPPED, "level-2" },
  { "4-level/not-present-pt", FALSE, BREAK_CLEAR_P, 1, 0, HW_ERROR_UNMAPPED, "level-1" },
  { "la57/not-present-pml5", TRUE, BREAK_CLEAR_P, 5, 0, HW_ERROR_UNMAPPED, "level-5" },
  { "la57/not-present-pml4", TRUE, BREAK_CLEAR_P, 4, 0, HW_ERROR_UNMAPPED, "level-4" },
  { "la57/not-present-pdpt", TRUE, BREAK_CLEAR_P, 3, 0, HW_ERROR_UNMAPPED, "level-3" },
  { "la57/not-present-pd", TRUE, BREAK_CLEAR_P, 2, 0, HW_ERROR_UNMAPPED, "level-2" },
  { "la57/not-present-pt", TRUE, BREAK_CLEAR_P, 1, 0, HW_ERROR_UNMAPPED, "level-1" },
  /* PS is reserved in PML4 and PML5 entries. */
  { "4-level/ps-in-pml4", FALSE, BREAK_SET_PS, 4, 0, HW_ERROR_UNMAPPED, "reserved" },
  { "la57/ps-in-pml5", TRUE, BREAK_SET_PS, 5, 0, HW_ERROR_UNMAPPED, "reserved" },
  { "la57/ps-in-pml4", TRUE, BREAK_SET_PS, 4, 0, HW_ERROR_UNMAPPED, "reserved" },
  /* Tables outside guest RAM: in the hole below 4 GiB, past the end, at the top. */
  { "4-level/root-outside-ram", FALSE, BREAK_ROOT_AT, 0, 0x800000, HW_ERROR_OUT_OF_RANGE,
    "level-4" },
  { "4-level/pdpt-in-hole", FALSE, BREAK_POINT_AT, 4, 0x800000, HW_ERROR_OUT_OF_RANGE,
    "level-3" },
  { "4-level/pd-past-ram", FALSE, BREAK_POINT_AT, 3, HIGH_GPA + HIGH_SIZE,
    HW_ERROR_OUT_OF_RANGE, "level-2" },
  { "4-level/pt-at-top", FALSE, BREAK_POINT_AT, 2, ADDR_MASK, HW_ERROR_OUT_OF_RANGE,
    "level-1" },
  { "la57/pml4-in-hole", TRUE, BREAK_POINT_AT, 5, 0xfee00000, HW_ERROR_OUT_OF_RANGE,
    "level-4" },
  { "la57/root-outside-ram", TRUE, BREAK_ROOT_AT, 0, 0x7ffff000, HW_ERROR_OUT_OF_RANGE,
    "level-5" },
};

static void
test_fault(gconstpointer data)
{
  const FaultCase *c = data;
  g_autoptr(Ram) ram = ram_new();
  guint levels = c->la57 ? 5 : 4;
  guint64 va = c->la57 ? VA5 : VA4;
  guint64 root = ram_new_table(ram);
  ram_map(ram, root, levels, va, 1, 0x305000 | P | RW);

  if (c->kind == BREAK_ROOT_AT) {
    root = c->addr;
  } else {
    guint64 egpa = ram_entry_gpa(ram, root, levels, va, c->level);
    if (c->kind == BREAK_CLEAR_P)
      ram_set_bits(ram, egpa, 0, P);
    else if (c->kind == BREAK_SET_PS)
      ram_set_bits(ram, egpa, PS, 0);
    else
      ram_set_bits(ram, egpa, c->addr, ADDR_MASK);
  }

  g_autoptr(HwMmu) mmu = make_mmu(ram, root, c->la57, TRUE);
  HwTranslation t;
  g_autoptr(GError) error = NULL;
  g_assert_false(hw_mmu_translate(mmu, va, &t, &error));
  g_assert_error(error, HW_ERROR, c->code);
  g_assert_nonnull(strstr(error->message, c->message));

  /* Reading fails the same way. */
  guint8 buf[8];
  g_clear_error(&error);
  g_assert_false(hw_mmu_read(mmu, va, buf, sizeof buf, &error));
  g_assert_error(error, HW_ERROR, c->code);
}

typedef struct {
  const char *name;
  gboolean la57;
  guint64 va;
} CanonicalCase;

static const CanonicalCase non_canonical[] = {
  { "4-level/bit-47-not-extended", FALSE, 0x0000800000000000ull },
  { "4-level/upper-half-hole", FALSE, 0xffff7fffffffffffull },
  { "4-level/la57-user-address", FALSE, 0x00abcdef12345678ull },
  { "4-level/la57-kernel-address", FALSE, 0xff5a3456789ab123ull },
  { "4-level/bit-63-only", FALSE, 0x8000000000000000ull },
  { "la57/bit-56-not-extended", TRUE, 0x0100000000000000ull },
  { "la57/upper-half-hole", TRUE, 0xfeffffffffffffffull },
  { "la57/bit-63-only", TRUE, 0x8000000000000000ull },
};

static void
test_non_canonical(gconstpointer data)
{
  const CanonicalCase *c = data;
  g_autoptr(Ram) ram = ram_new();
  guint64 root = ram_new_table(ram);
  guint levels = c->la57 ? 5 : 4;
  /* Map the address a walker would reach by ignoring the bits above the top index. */
  guint64 low_bits = (1ull << (12 + 9 * levels)) - 1;
  ram_map(ram, root, levels, c->va & low_bits, 1, 0x305000 | P | RW | US);

  g_autoptr(HwMmu) mmu = make_mmu(ram, root, c->la57, TRUE);
  HwTranslation t;
  g_autoptr(GError) error = NULL;
  g_assert_false(hw_mmu_translate(mmu, c->va, &t, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
}

/* The highest and lowest canonical addresses of each mode are accepted. */
static void
test_canonical_edges(void)
{
  static const struct {
    gboolean la57;
    guint64 va;
  } edges[] = {
    { FALSE, 0x00007fffffffffffull }, { FALSE, 0xffff800000000000ull },
    { TRUE, 0x00ffffffffffffffull }, { TRUE, 0xff00000000000000ull },
    { FALSE, 0 }, { TRUE, G_MAXUINT64 },
  };
  for (guint i = 0; i < G_N_ELEMENTS(edges); i++) {
    g_autoptr(Ram) ram = ram_new();
    guint levels = edges[i].la57 ? 5 : 4;
    guint64 root = ram_new_table(ram);
    ram_map(ram, root, levels, edges[i].va, 1, 0x305000 | P);
    g_autoptr(HwMmu) mmu = make_mmu(ram, root, edges[i].la57, TRUE);
    HwTranslation t;
    g_autoptr(GError) error = NULL;
    g_assert_true(hw_mmu_translate(mmu, edges[i].va, &t, &error));
    g_assert_no_error(error);
    g_assert_cmphex(t.pa, ==, 0x305000 | (edges[i].va & 0xfff));
  }
}

/* A PML4 entry that points back at the PML4 (a "recursive" slot): the walk still
 * ends after four levels. */
static void
test_recursive_entry(void)
{
  g_autoptr(Ram) ram = ram_new();
  guint64 root = ram_new_table(ram);
  ram_set(ram, root + 511 * 8, root | P | RW);
  const guint64 va = 0xfffffffffffff008ull;   /* index 511 at every level */

  g_autoptr(HwMmu) mmu = make_mmu(ram, root, FALSE, TRUE);
  HwTranslation t;
  g_autoptr(GError) error = NULL;
  g_assert_true(hw_mmu_translate(mmu, va, &t, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(t.levels, ==, 4);
  g_assert_cmphex(t.pa, ==, root + 8);
  g_assert_false(t.user);
}

/* ---- PTI ---------------------------------------------------------------------------------- */

#define KERNEL_PGD 0x1f0000ull     /* 8 KiB aligned: the user PGD follows it */
#define USER_PGD (KERNEL_PGD + 0x1000)
#define KERNEL_VA 0xffffffff81000000ull
#define USER_VA 0x0000000000401000ull

static void
test_pti(void)
{
  g_autoptr(Ram) ram = ram_new();
  ram_table_at(ram, KERNEL_PGD);
  ram_table_at(ram, USER_PGD);
  ram_map(ram, KERNEL_PGD, 4, KERNEL_VA, 1, 0x309000 | P | RW);
  ram_map(ram, KERNEL_PGD, 4, USER_VA, 1, 0x30a000 | P | RW | US);
  ram_map(ram, KERNEL_PGD, 4, USER_VA + KiB4, 1, 0x30b000 | P | RW | US);
  ram_map(ram, USER_PGD, 4, USER_VA, 1, 0x30a000 | P | RW | US);

  /* A user-mode CR3: user PGD, PCID, and the no-flush bit. */
  g_autoptr(HwMmu) mmu = make_mmu(ram, USER_PGD | 0x801 | (1ull << 63), FALSE, TRUE);
  g_assert_cmphex(hw_mmu_get_root(mmu), ==, USER_PGD);
  HwTranslation t;
  g_autoptr(GError) error = NULL;

  /* The kernel address is missing from the user PGD: found in the kernel PGD. */
  g_assert_true(hw_mmu_translate(mmu, KERNEL_VA + 0x10, &t, &error));
  g_assert_no_error(error);
  g_assert_cmphex(t.pa, ==, 0x309010);
  g_assert_cmphex(t.root_used, ==, KERNEL_PGD);
  assert_read(mmu, ram, KERNEL_VA + 0xff8, 0x309ff8, 8);

  /* User addresses come from the user PGD. */
  g_assert_true(hw_mmu_translate(mmu, USER_VA + 0x20, &t, &error));
  g_assert_no_error(error);
  g_assert_cmphex(t.pa, ==, 0x30a020);
  g_assert_cmphex(t.root_used, ==, USER_PGD);

  /* ... and only from there: no second try for the user half. */
  g_assert_false(hw_mmu_translate(mmu, USER_VA + KiB4, &t, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_UNMAPPED);
  g_clear_error(&error);

  /* A kernel address in neither PGD stays unmapped. */
  g_assert_false(hw_mmu_translate(mmu, KERNEL_VA + MiB2, &t, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_UNMAPPED);
  g_clear_error(&error);

  /* From the kernel PGD itself everything is there on the first walk. */
  g_autoptr(HwMmu) kmmu = make_mmu(ram, KERNEL_PGD | 0x801, FALSE, TRUE);
  g_assert_true(hw_mmu_translate(kmmu, KERNEL_VA, &t, &error));
  g_assert_no_error(error);
  g_assert_cmphex(t.root_used, ==, KERNEL_PGD);
  g_assert_true(hw_mmu_translate(kmmu, USER_VA + KiB4, &t, &error));
  g_assert_no_error(error);
  g_assert_cmphex(t.pa, ==, 0x30b000);
}

/* ---- reads through the MMU ---------------------------------------------------------------- */

static void
test_read_across_pages(void)
{
  g_autoptr(Ram) ram = ram_new();
  guint64 root = ram_new_table(ram);
  const guint64 va = 0x00007f0000000000ull;
  /* Three VA pages back to back on scattered PAs (one in the high range), then a
   * 2 MiB page, then nothing. */
  ram_map(ram, root, 4, va, 1, 0x340000 | P);
  ram_map(ram, root, 4, va + KiB4, 1, (HIGH_GPA + 0x5000) | P);
  ram_map(ram, root, 4, va + 2 * KiB4, 1, 0x310000 | P);
  const guint64 va_2m = va + MiB2;   /* the next 2 MiB slot */
  ram_map(ram, root, 4, va_2m, 2, HIGH_GPA | P);
  g_autoptr(HwMmu) mmu = make_mmu(ram, root, FALSE, TRUE);
  g_autoptr(GError) error = NULL;

  /* 16 bytes before and 16 after the first boundary. */
  guint8 buf[0x2020];
  g_assert_true(hw_mmu_read(mmu, va + 0xff0, buf, 32, &error));
  g_assert_no_error(error);
  g_assert_cmpmem(buf, 16, ram_at(ram, 0x340ff0, 16), 16);
  g_assert_cmpmem(buf + 16, 16, ram_at(ram, HIGH_GPA + 0x5000, 16), 16);

  /* Two boundaries. */
  g_assert_true(hw_mmu_read(mmu, va + 0x800, buf, 0x2010, &error));
  g_assert_no_error(error);
  g_assert_cmpmem(buf, 0x800, ram_at(ram, 0x340800, 0x800), 0x800);
  g_assert_cmpmem(buf + 0x800, 0x1000, ram_at(ram, HIGH_GPA + 0x5000, 0x1000), 0x1000);
  g_assert_cmpmem(buf + 0x1800, 0x810, ram_at(ram, 0x310000, 0x810), 0x810);

  /* Off the end of the third page into an unmapped one. */
  g_assert_false(hw_mmu_read(mmu, va + 3 * KiB4 - 4, buf, 8, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_UNMAPPED);
  g_clear_error(&error);

  /* Inside the 2 MiB page, across a 4 KiB boundary: one piece. */
  assert_read(mmu, ram, va_2m + 0xff8, HIGH_GPA + 0xff8, 16);
}

/* A page that is mapped but lies outside guest RAM translates, but does not read. */
static void
test_read_page_outside_ram(void)
{
  g_autoptr(Ram) ram = ram_new();
  guint64 root = ram_new_table(ram);
  const guint64 va = 0x00007f0000000000ull;
  ram_map(ram, root, 4, va, 1, 0xfee00000ull | P | RW);
  g_autoptr(HwMmu) mmu = make_mmu(ram, root, FALSE, TRUE);
  HwTranslation t;
  g_autoptr(GError) error = NULL;
  guint8 buf[8];

  g_assert_true(hw_mmu_translate(mmu, va, &t, &error));
  g_assert_no_error(error);
  g_assert_cmphex(t.pa, ==, 0xfee00000ull);
  g_assert_false(hw_mmu_read(mmu, va, buf, sizeof buf, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE);
}

/* ---- paging mode from registers ------------------------------------------------------------ */

typedef struct {
  const char *name;
  const char *text;      /* `info registers` text; "@ROOT@" is the page-table root */
  gint code;             /* HwError; 0 means it works */
  guint levels;
  gboolean nx;           /* whether the NX leaf counts (EFER.NXE) */
} RegsCase;

static const RegsCase regs_cases[] = {
  { "4-level", "CR0=80050033 CR3=@ROOT@ CR4=000006f0 EFER=0000000000000d01 RIP=0 CPL=0",
    0, 4, TRUE },
  { "la57", "CR0=80050033 CR3=@ROOT@ CR4=00751ef0 EFER=0000000000000d01 RIP=0 CPL=3",
    0, 5, TRUE },
  { "no-nxe", "CR0=80050033 CR3=@ROOT@ CR4=000006f0 EFER=0000000000000500 RIP=0 CPL=0",
    0, 4, FALSE },
  { "no-paging", "CR0=00000011 CR3=@ROOT@ CR4=000006f0 EFER=0000000000000d01 RIP=0 CPL=0",
    HW_ERROR_UNSUPPORTED, 0, FALSE },
  { "real-mode", "CR0=00000010 CR3=0 CR4=0 EFER=0 RIP=fff0 CPL=0",
    HW_ERROR_UNSUPPORTED, 0, FALSE },
  { "not-long-mode", "CR0=80000011 CR3=@ROOT@ CR4=00000020 EFER=0000000000000000 RIP=0 CPL=0",
    HW_ERROR_UNSUPPORTED, 0, FALSE },
};

static void
test_from_regs(gconstpointer data)
{
  const RegsCase *c = data;
  g_autoptr(Ram) ram = ram_new();
  guint64 root = ram_new_table(ram);
  const guint64 va = 0xffffffff81000000ull;
  ram_map(ram, root, c->code ? 4 : c->levels, va, 1, 0x305000 | P | RW | NX);

  g_autofree char *root_hex = g_strdup_printf("%016" G_GINT64_MODIFIER "x", root | 0x5);
  g_autoptr(GString) text = g_string_new(c->text);
  g_string_replace(text, "@ROOT@", root_hex, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwRegs) regs = hw_regs_parse_x86_64(text->str, &error);
  g_assert_no_error(error);

  g_autoptr(HwMmu) mmu = hw_mmu_new_from_regs(ram->mem, regs, &error);
  if (c->code != 0) {
    g_assert_null(mmu);
    g_assert_error(error, HW_ERROR, c->code);
    return;
  }
  g_assert_no_error(error);
  g_assert_nonnull(mmu);
  g_assert_cmpuint(hw_mmu_get_levels(mmu), ==, c->levels);
  g_assert_cmphex(hw_mmu_get_root(mmu), ==, root);
  HwTranslation t;
  g_assert_true(hw_mmu_translate(mmu, va + 0x42, &t, &error));
  g_assert_no_error(error);
  g_assert_cmphex(t.pa, ==, 0x305042);
  g_assert_cmpint(t.nx, ==, c->nx);
}

/* The registers QEMU printed for real guests give the right mode and root. */
static void
test_from_captured_regs(void)
{
  static const struct {
    const char *file;
    guint levels;
    guint64 root;
  } cases[] = {
    { "info-registers-q35.txt", 4, 0x2c14000 },
    { "info-registers-la57.txt", 5, 0x1fee4000 },
    { "info-registers-pti.txt", 5, 0x102b9000 },   /* user PGD: bit 12 stays */
  };
  g_autoptr(Ram) ram = ram_new();
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *path = g_build_filename(HW_TEST_DATA, cases[i].file, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, &error));
    g_autoptr(HwRegs) regs = hw_regs_parse_x86_64(text, &error);
    g_assert_no_error(error);
    g_autoptr(HwMmu) mmu = hw_mmu_new_from_regs(ram->mem, regs, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(hw_mmu_get_levels(mmu), ==, cases[i].levels);
    g_assert_cmphex(hw_mmu_get_root(mmu), ==, cases[i].root);
  }
}

/* An explicit root: mode from the registers if given, else 4-level with NX. */
static void
test_from_root(void)
{
  g_autoptr(Ram) ram = ram_new();
  guint64 root = ram_new_table(ram);
  const guint64 va = 0x00007f1234567000ull;
  ram_map(ram, root, 4, va, 1, 0x305000 | P | NX);
  g_autoptr(GError) error = NULL;

  g_autoptr(HwMmu) mmu = hw_mmu_new_from_root(ram->mem, HW_ARCH_X86_64, root | 0x18, NULL,
                                              &error);
  g_assert_no_error(error);
  g_assert_cmpuint(hw_mmu_get_levels(mmu), ==, 4);
  g_assert_cmphex(hw_mmu_get_root(mmu), ==, root);
  HwTranslation t;
  g_assert_true(hw_mmu_translate(mmu, va, &t, &error));
  g_assert_no_error(error);
  g_assert_true(t.nx);

  g_autoptr(HwRegs) la57 = hw_regs_parse_x86_64(
    "CR0=80050033 CR3=0000000000001000 CR4=00001000 EFER=d01 RIP=0 CPL=0", &error);
  g_assert_no_error(error);
  g_autoptr(HwMmu) mmu5 = hw_mmu_new_from_root(ram->mem, HW_ARCH_X86_64, root, la57, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(hw_mmu_get_levels(mmu5), ==, 5);
  g_assert_cmphex(hw_mmu_get_root(mmu5), ==, root);

  g_autoptr(HwRegs) off = hw_regs_parse_x86_64(
    "CR0=00000011 CR3=0000000000001000 CR4=0 EFER=0 RIP=0 CPL=0", &error);
  g_assert_no_error(error);
  g_autoptr(HwMmu) none = hw_mmu_new_from_root(ram->mem, HW_ARCH_X86_64, root, off, &error);
  g_assert_null(none);
  g_assert_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED);
  g_clear_error(&error);

  /* An AArch64 root alone is not enough: the kernel half and granules are in TCR/TTBR1. */
  g_autoptr(HwMmu) arm = hw_mmu_new_from_root(ram->mem, HW_ARCH_AARCH64, root, NULL, &error);
  g_assert_null(arm);
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
}

/* ---- the memory file goes away under a walk ----------------------------------------------- */

static void
test_gone(void)
{
  g_autoptr(Ram) ram = ram_new();
  guint64 root = ram_new_table(ram);
  const guint64 va = 0xffffffff81000000ull;
  ram_map(ram, root, 4, va, 1, 0x305000 | P);

  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp("haywire-mmu-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *path = g_build_filename(dir, "guest-ram", NULL);
  g_assert_true(g_file_set_contents(path, (const char *)ram->data, FILE_SIZE, &error));
  g_autoptr(HwPhysMem) mem = hw_physmem_open(path, ram_ranges, G_N_ELEMENTS(ram_ranges), &error);
  g_assert_no_error(error);
  HwX86Paging paging = { .cr3 = root, .la57 = FALSE, .nxe = TRUE };
  g_autoptr(HwMmu) mmu = hw_mmu_new_x86_64(mem, &paging);
  HwTranslation t;
  guint8 buf[16];

  g_assert_true(hw_mmu_translate(mmu, va, &t, &error));
  g_assert_no_error(error);
  g_assert_true(hw_mmu_read(mmu, va, buf, sizeof buf, &error));
  g_assert_no_error(error);

  int fd = open(path, O_WRONLY | O_CLOEXEC);
  g_assert_cmpint(fd, >=, 0);
  g_assert_no_errno(ftruncate(fd, 0));
  close(fd);

  g_assert_false(hw_mmu_translate(mmu, va, &t, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_GONE);
  g_clear_error(&error);
  g_assert_false(hw_mmu_read(mmu, va, buf, sizeof buf, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_GONE);

  g_unlink(path);
  g_rmdir(dir);
}

static gboolean
count_table(guint64 gpa, guint level, gpointer data)
{
  GHashTable *seen = data;
  guint64 *key = g_new(guint64, 1);
  *key = gpa;
  gboolean fresh = !g_hash_table_contains(seen, key);
  g_hash_table_add(seen, key);
  return fresh;
}

static gboolean
always_descend(guint64 gpa, guint level, gpointer data)
{
  return TRUE;
}

/* Every table page reachable from the root once: large pages end a branch, shared
 * tables are walked once, a table that points to itself ends at the budget. */
static void
test_tables(void)
{
  g_autoptr(Ram) ram = ram_new();
  guint64 root = ram_new_table(ram);
  ram_map(ram, root, 4, 0x400000, 1, 0x10000 | P);
  ram_map(ram, root, 4, 0x401000, 1, 0x11000 | P);   /* same PT */
  ram_map(ram, root, 4, 0x40000000, 2, 0x200000 | P);   /* 2 MiB page: no PT */
  ram_map(ram, root, 4, 0xffff888000000000ull, 3, 0 | P);   /* 1 GiB page */
  g_autoptr(HwMmu) mmu = make_mmu(ram, root, FALSE, TRUE);
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  /* root, low PDPT, the PD of the first GiB, its PT, the PD of the second GiB (a 2 MiB
   * page: no PT below), high PDPT (a 1 GiB page): 6. */
  g_assert_cmpuint(hw_mmu_for_each_table(mmu, count_table, seen, 1000), ==, 6);
  g_assert_cmpuint(g_hash_table_size(seen), ==, 6);
  g_assert_true(g_hash_table_contains(seen, &root));
  /* Walked again from the same root: only the root is visited, nothing below. */
  g_assert_cmpuint(hw_mmu_for_each_table(mmu, count_table, seen, 1000), ==, 1);

  /* Every entry of the root points back at the root: depth ends each branch, but
   * there are 512^3 of them; the budget ends the walk. */
  for (guint i = 0; i < 512; i++)
    ram_set(ram, root + i * 8, root | P | RW);
  g_autoptr(HwMmu) loop = make_mmu(ram, root, FALSE, TRUE);
  g_assert_cmpuint(hw_mmu_for_each_table(loop, always_descend, NULL, 300), ==, 300);
}

static gboolean
collect_mapping(const HwMapping *m, gpointer data)
{
  g_array_append_vals(data, m, 1);
  return TRUE;
}

static gboolean
stop_after_two(const HwMapping *m, gpointer data)
{
  g_array_append_vals(data, m, 1);
  return ((GArray *)data)->len < 2;
}

/* Every leaf with its canonical VA, size, PA and the walk's permissions, in VA order;
 * a callback can stop it; a looping table ends at the budget. */
static void
test_mappings(void)
{
  g_autoptr(Ram) ram = ram_new();
  guint64 root = ram_new_table(ram);
  ram_map(ram, root, 4, 0x400000, 1, 0x10000 | P | RW | US);
  ram_map(ram, root, 4, 0x401000, 1, 0x11000 | P | US | NX);
  ram_map(ram, root, 4, 0x40000000, 2, 0x200000 | P | PS | RW);
  ram_map(ram, root, 4, 0xffff888000000000ull, 3, 0 | P | PS | RW);
  g_autoptr(HwMmu) mmu = make_mmu(ram, root, FALSE, TRUE);
  g_autoptr(GArray) got = g_array_new(FALSE, FALSE, sizeof(HwMapping));
  g_assert_cmpuint(hw_mmu_for_each_mapping(mmu, HW_HALF_BOTH, collect_mapping, got, 1000), ==, 6);
  static const HwMapping want[] = {
    { 0x400000, 0x10000, KiB4, TRUE, TRUE, FALSE },
    { 0x401000, 0x11000, KiB4, FALSE, TRUE, TRUE },
    { 0x40000000, 0x200000, MiB2, TRUE, FALSE, FALSE },
    { 0xffff888000000000ull, 0, GiB1, TRUE, FALSE, FALSE },
  };
  g_assert_cmpuint(got->len, ==, G_N_ELEMENTS(want));
  for (guint i = 0; i < got->len; i++) {
    const HwMapping *m = &g_array_index(got, HwMapping, i);
    /* The walk's permissions: ram_map's intermediate entries are P|RW|US. */
    HwTranslation t;
    g_assert_true(hw_mmu_translate(mmu, want[i].va, &t, NULL));
    g_assert_cmphex(m->va, ==, want[i].va);
    g_assert_cmphex(m->pa, ==, want[i].pa);
    g_assert_cmphex(m->size, ==, want[i].size);
    g_assert_cmpint(m->writable, ==, t.writable);
    g_assert_cmpint(m->user, ==, t.user);
    g_assert_cmpint(m->nx, ==, t.nx);
  }
  g_array_set_size(got, 0);
  hw_mmu_for_each_mapping(mmu, HW_HALF_BOTH, stop_after_two, got, 1000);
  g_assert_cmpuint(got->len, ==, 2);
  /* Each half alone. */
  g_array_set_size(got, 0);
  hw_mmu_for_each_mapping(mmu, HW_HALF_LOW, collect_mapping, got, 1000);
  g_assert_cmpuint(got->len, ==, 3);
  g_array_set_size(got, 0);
  hw_mmu_for_each_mapping(mmu, HW_HALF_HIGH, collect_mapping, got, 1000);
  g_assert_cmpuint(got->len, ==, 1);
  g_assert_cmphex(g_array_index(got, HwMapping, 0).va, ==, 0xffff888000000000ull);
  g_array_set_size(got, 0);
  hw_mmu_for_each_mapping(mmu, HW_HALF_BOTH, stop_after_two, got, 1000);
  g_assert_cmpuint(got->len, ==, 2);

  for (guint i = 0; i < 512; i++)
    ram_set(ram, root + i * 8, root | P | RW);
  g_autoptr(HwMmu) loop = make_mmu(ram, root, FALSE, TRUE);
  g_array_set_size(got, 0);
  g_assert_cmpuint(hw_mmu_for_each_mapping(loop, HW_HALF_BOTH, collect_mapping, got, 300), ==, 300);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/mmu/x86-64/mappings", test_mappings);
  g_test_add_func("/mmu/x86-64/tables", test_tables);

  for (guint i = 0; i < G_N_ELEMENTS(map_cases); i++) {
    g_autofree char *path = g_strdup_printf("/mmu/x86-64/%s", map_cases[i].name);
    g_test_add_data_func(path, &map_cases[i], test_map);
  }
  for (guint i = 0; i < G_N_ELEMENTS(flags_cases); i++) {
    g_autofree char *path = g_strdup_printf("/mmu/x86-64/flags/%s", flags_cases[i].name);
    g_test_add_data_func(path, &flags_cases[i], test_flags);
  }
  for (guint i = 0; i < G_N_ELEMENTS(fault_cases); i++) {
    g_autofree char *path = g_strdup_printf("/mmu/x86-64/%s", fault_cases[i].name);
    g_test_add_data_func(path, &fault_cases[i], test_fault);
  }
  for (guint i = 0; i < G_N_ELEMENTS(non_canonical); i++) {
    g_autofree char *path = g_strdup_printf("/mmu/x86-64/%s", non_canonical[i].name);
    g_test_add_data_func(path, &non_canonical[i], test_non_canonical);
  }
  g_test_add_func("/mmu/x86-64/canonical-edges", test_canonical_edges);
  g_test_add_func("/mmu/x86-64/4-level/recursive-entry", test_recursive_entry);
  g_test_add_func("/mmu/x86-64/pti/kernel-from-user-root", test_pti);
  g_test_add_func("/mmu/x86-64/read/across-pages", test_read_across_pages);
  g_test_add_func("/mmu/x86-64/read/page-outside-ram", test_read_page_outside_ram);
  for (guint i = 0; i < G_N_ELEMENTS(regs_cases); i++) {
    g_autofree char *path = g_strdup_printf("/mmu/x86-64/from-regs/%s", regs_cases[i].name);
    g_test_add_data_func(path, &regs_cases[i], test_from_regs);
  }
  g_test_add_func("/mmu/x86-64/from-regs/captured", test_from_captured_regs);
  g_test_add_func("/mmu/x86-64/from-root", test_from_root);
  g_test_add_func("/mmu/x86-64/gone", test_gone);
  return g_test_run();
}
