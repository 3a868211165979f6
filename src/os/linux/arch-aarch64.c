/* Linux on arm64: KASLR puts the image anywhere in the vmalloc area, and before 6.x's
 * rework the image header page (_text up to _stext) is neither mapped nor kept (6.1
 * reserves RAM from _stext on), so there is no signature to search for. The searches
 * for BTF and init_task start at the bottom of RAM, where boot loaders and QEMU put the
 * kernel; once init_task is known, the image's mapping is followed down from it: the
 * image is mapped as one linear piece (VA - PA constant), so its lowest such page is
 * _text where the header is mapped (6.12) and _stext where it is not (6.1). */
#include "os/linux/linux-private.h"
#include <haywire/error.h>

#include <stdio.h>
#include <string.h>

#define IMAGE_MAX_SIZE (256ull << 20)   /* how far below init_task the image may begin */
#define STEXT_OFFSET (64ull << 10)      /* _stext - _text: SEGMENT_ALIGN */

/* Only a hint for the searches: the bottom of RAM. */
static gboolean
arm_find_image(HwLinux *lx, GError **error)
{
  guint n;
  const HwRamRange *r = hw_physmem_get_ranges(lx->mem, &n);
  if (n == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE, "guest RAM has no ranges");
    return FALSE;
  }
  lx->info.text_gpa = r[0].gpa;
  return TRUE;
}

/* From init_task down, the lowest page mapped at the image's VA - PA offset. Freed init
 * sections leave holes in the mapping, so holes do not stop the walk; other mappings
 * (modules, vmalloc) do not share the offset. Bounded by IMAGE_MAX_SIZE. */
static gboolean
arm_finish_image(HwLinux *lx, GError **error)
{
  const HwLinuxInfo *i = &lx->info;
  const guint64 offset = i->init_task_va - i->init_task_gpa;
  const guint64 page = hw_mmu_get_page_size(lx->kmmu, i->init_task_va);
  guint64 lowest = 0, lowest_pa = 0;
  guint64 top = i->init_task_va & ~(page - 1);
  for (guint64 va = top; va + IMAGE_MAX_SIZE > top && va >= 0xff00000000000000ull;
       va -= page) {
    HwTranslation t;
    if (hw_mmu_translate(lx->kmmu, va, &t, NULL) && t.pa == va - offset) {
      lowest = va;
      lowest_pa = t.pa;
    }
  }
  if (lowest == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_FAILED,
                "init_task at 0x%" G_GINT64_MODIFIER "x is not in a linear kernel image mapping",
                i->init_task_va);
    return FALSE;
  }
  lx->info.text_va = lowest;
  lx->info.text_gpa = lowest_pa;
  return TRUE;
}

/* Without KASLR _text is at KIMAGE_VADDR: the top half's start (_PAGE_END(VA_BITS_MIN):
 * TCR_EL1.T1SZ's size, at most 48 bits, as 52-bit kernels boot on 48-bit CPUs too) plus
 * the modules area, 128 MiB before 6.5 and 2 GiB since; _stext follows the 64 KiB
 * header segment. */
static gint64
arm_kaslr_slide(const HwLinux *lx)
{
  guint64 tcr = 0;
  hw_regs_get(lx->regs, "TCR_EL1", &tcr);
  guint va_bits = 64 - (guint)((tcr >> 16) & 63);
  if (va_bits < 32 || va_bits > 48)
    va_bits = 48;
  /* Is text_va _text (the Image header, "ARM\x64" at 0x38, is there) or _stext? */
  guint32 magic = 0;
  hw_physmem_read(lx->mem, lx->info.text_gpa + 0x38, &magic, sizeof magic, NULL);
  guint64 stext = magic == 0x644d5241u ? 0 : STEXT_OFFSET;
  guint major = 0, minor = 0;
  if (lx->info.banner == NULL ||
      sscanf(lx->info.banner, "Linux version %u.%u", &major, &minor) != 2)
    major = minor = 0;
  guint64 modules = major > 6 || (major == 6 && minor >= 5) ? 2ull << 30 : 128ull << 20;
  guint64 kimage_vaddr = -(1ull << (va_bits - 1)) + modules;
  return (gint64)(lx->info.text_va - (kimage_vaddr + stext));
}

/* TCR_EL1 granule fields for PAGE: TG0 (bits 14-15) and TG1 (bits 30-31). */
static gboolean
granule_bits(guint64 page, guint64 *tcr)
{
  switch (page) {
  case 4096: *tcr |= (0ull << 14) | (2ull << 30); return TRUE;
  case 16384: *tcr |= (2ull << 14) | (1ull << 30); return TRUE;
  case 65536: *tcr |= (1ull << 14) | (3ull << 30); return TRUE;
  default: return FALSE;
  }
}

/* The paging registers vmcoreinfo TEXT describes: TTBR0/1 at swapper_pg_dir's PA (its
 * VA minus kimage_voffset), a TCR from the page and VA sizes; FALSE when it does not
 * say, or says something this RAM cannot hold. */
static gboolean
paging_from_vmcoreinfo(HwLinux *lx, const char *text, HwAArch64Paging *out, guint64 *pgd_va)
{
  guint64 voff = 0, page = 0, va_bits = 0, t1sz = 0;
  if (!hw_linux_vmcoreinfo_number(text, "SYMBOL(swapper_pg_dir)", pgd_va) ||
      !hw_linux_vmcoreinfo_number(text, "NUMBER(kimage_voffset)", &voff) ||
      !hw_linux_vmcoreinfo_number(text, "PAGESIZE", &page) ||
      !hw_linux_vmcoreinfo_number(text, "NUMBER(VA_BITS)", &va_bits))
    return FALSE;
  /* The size in use: smaller than VA_BITS where the CPU lacks 52-bit support. */
  if (!hw_linux_vmcoreinfo_number(text, "NUMBER(TCR_EL1_T1SZ)", &t1sz) || t1sz == 0)
    t1sz = 64 - MIN(va_bits, 64);
  guint64 tcr = t1sz | (t1sz << 16), root = *pgd_va - voff;
  if (t1sz < 12 || t1sz > 39 || !granule_bits(page, &tcr) || root % page != 0 ||
      hw_physmem_ptr(lx->mem, root, (gsize)page) == NULL)
    return FALSE;
  if (t1sz < 16 && page != 65536)
    tcr |= 1ull << 59;   /* DS: 52-bit addresses with 4/16 KiB pages (LPA2) */
  *out = (HwAArch64Paging){ .ttbr0 = root, .ttbr1 = root, .tcr = tcr };
  return TRUE;
}

/* A dump has x0-x30, sp, pc and pstate only. The kernel's vmcoreinfo tells where its
 * tables are; a candidate counts once its tables map swapper_pg_dir's own VA to the
 * root they start from (what the kernel image does; a planted look-alike would need
 * consistent tables too, and discovery still has to validate init_task after this). */
static gboolean
arm_recover_paging(HwLinux *lx, GError **error)
{
  g_autoptr(GPtrArray) texts = hw_linux_find_vmcoreinfo(lx);
  for (guint i = 0; i < texts->len; i++) {
    HwAArch64Paging p;
    guint64 pgd_va;
    HwTranslation t;
    if (!paging_from_vmcoreinfo(lx, texts->pdata[i], &p, &pgd_va))
      continue;
    g_autoptr(HwMmu) mmu = hw_mmu_new_aarch64(lx->mem, &p, NULL);
    if (mmu == NULL || !hw_mmu_translate(mmu, pgd_va, &t, NULL) || t.pa != p.ttbr1)
      continue;
    hw_regs_set(lx->regs, "TTBR0_EL1", p.ttbr0);
    hw_regs_set(lx->regs, "TTBR1_EL1", p.ttbr1);
    hw_regs_set(lx->regs, "TCR_EL1", p.tcr);
    return TRUE;
  }
  g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED, "the recording holds no AArch64 "
              "translation registers (TTBR1_EL1, TCR_EL1), and none of the %u kernel "
              "vmcoreinfo texts found in its RAM describes page tables there", texts->len);
  return FALSE;
}

const HwLinuxArch hw_linux_arch_aarch64 = {
  .recover_paging = arm_recover_paging,
  .arch = HW_ARCH_AARCH64,
  .find_image = arm_find_image,
  .finish_image = arm_finish_image,
  .kaslr_slide = arm_kaslr_slide,
};
