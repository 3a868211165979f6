/* Synthetic guest RAM for the scan tests: two RAM ranges over one buffer, and x86-64
 * page tables in it that map chosen pages of one 2 MiB stretch of VAs. */
#pragma once

#include <haywire/haywire.h>

#include <string.h>

#define RAM_A (20u << 20)   /* more than two 8 MiB chunks */
#define RAM_B (1u << 20)

/* Where the page tables lie, and the VAs they map (SCAN_VA + 4096 * i). */
#define SCAN_PML4 0x100000ull
#define SCAN_PDPT 0x101000ull
#define SCAN_PD 0x102000ull
#define SCAN_PT 0x103000ull
#define SCAN_VA 0x400000ull

typedef struct {
  guint8 *ram;
  HwPhysMem *mem;
} Ram;

static inline void
ram_free(Ram *r)
{
  hw_physmem_free(r->mem);
  g_free(r->ram);
  g_free(r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Ram, ram_free)

/* Range A at gpa 0 (file 0), range B at gpa 4 GiB (file RAM_A), adjacent in the file. */
static inline Ram *
ram_new(void)
{
  Ram *r = g_new0(Ram, 1);
  const HwRamRange ranges[] = { { 0, RAM_A, 0 }, { 1ull << 32, RAM_B, RAM_A } };
  r->ram = g_malloc0(RAM_A + RAM_B);
  r->mem = hw_physmem_new_from_data(r->ram, RAM_A + RAM_B, ranges, 2, NULL);
  g_assert_nonnull(r->mem);
  return r;
}

static inline void
ram_put64(Ram *r, guint64 gpa, guint64 v)
{
  memcpy(r->ram + gpa, &v, 8);
}

/* Map page I of the VAs from SCAN_VA to the physical page PA (user, writable). */
static inline void
ram_map_page(Ram *r, guint i, guint64 pa)
{
  ram_put64(r, SCAN_PML4 + 8 * ((SCAN_VA >> 39) & 511), SCAN_PDPT | 7);
  ram_put64(r, SCAN_PDPT + 8 * ((SCAN_VA >> 30) & 511), SCAN_PD | 7);
  ram_put64(r, SCAN_PD + 8 * ((SCAN_VA >> 21) & 511), SCAN_PT | 7);
  ram_put64(r, SCAN_PT + 8 * (((SCAN_VA >> 12) & 511) + i), pa | 7);
}

/* The address space of those page tables (caller owns). */
static inline HwMmu *
ram_mmu(Ram *r)
{
  return hw_mmu_new_x86_64(r->mem, &(HwX86Paging){ .cr3 = SCAN_PML4, .nxe = TRUE });
}

/* One VMA of N_PAGES pages from SCAN_VA (caller owns). */
static inline GArray *
ram_vmas(guint n_pages)
{
  GArray *vmas = g_array_new(FALSE, TRUE, sizeof(HwVma));
  HwVma v = { .start = SCAN_VA, .end = SCAN_VA + 4096ull * n_pages };
  g_array_append_val(vmas, v);
  return vmas;
}
