/* From a struct page pointer to the physical page it describes, profile-less.
 *
 * With SPARSEMEM_VMEMMAP (what x86-64 and arm64 kernels use) the struct pages form one
 * virtual array: page = vmemmap + pfn. vmemmap moves with KASLR, but the kernel writes
 * where mem_section's roots are into its vmcoreinfo (SYMBOL(mem_section)), and each present
 * section's section_mem_map holds the array's address for the section's first pfn minus
 * that pfn, i.e. vmemmap itself, with flag bits in its low bits. The value is checked:
 * a kernel pointer, page-aligned, and the same for the first sections present. */
#include "os/linux/linux-private.h"
#include <haywire/error.h>

#define MAX_SECTIONS_CHECKED 8u

static gboolean
vmemmap_from(HwLinux *lx, const char *info, GError **error)
{
  guint64 sym = 0, off = 0, size = 0;
  if (!hw_linux_vmcoreinfo_number(info, "SYMBOL(mem_section)", &sym) ||
      !hw_linux_vmcoreinfo_number(info, "OFFSET(mem_section.section_mem_map)", &off) ||
      !hw_linux_vmcoreinfo_number(info, "SIZE(mem_section)", &size) || size == 0 ||
      size > 4096 || off + 8 > size) {
    g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND,
                "vmcoreinfo has no SYMBOL(mem_section) with its layout");
    return FALSE;
  }
  /* SPARSEMEM_EXTREME: the roots (SYMBOL_ARRAY gives mem_section's value, the roots'
   * address); root 0 points at sections 0... */
  guint64 root0 = 0;
  if (!hw_linux_read_u64(lx, sym, &root0, error))
    return FALSE;
  guint64 base = 0;
  guint checked = 0;
  for (guint i = 0; i < 64 && checked < MAX_SECTIONS_CHECKED; i++) {
    guint64 map = 0;
    if (!hw_linux_read_u64(lx, root0 + i * size + off, &map, error))
      return FALSE;
    if (map == 0)
      continue;   /* not present */
    guint64 v = map & ~0xfffull;
    if (!hw_linux_is_kernel_ptr(v) || (base != 0 && v != base)) {
      g_set_error(error, HW_ERROR, HW_ERROR_FAILED,
                  "mem_section %u holds 0x%" G_GINT64_MODIFIER "x, not the page array", i, map);
      return FALSE;
    }
    base = v;
    checked++;
  }
  if (base == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND, "no present memory section");
    return FALSE;
  }
  lx->vmemmap = base;
  return TRUE;
}

gboolean
hw_linux_page_to_gpa(HwLinux *lx, guint64 page_va, guint64 *gpa, GError **error)
{
  if (lx->page_struct_size == 0) {
    guint64 size = 0;
    const HwBtf *btf = hw_linux_get_btf(lx, error);
    if (btf == NULL || !hw_btf_struct_size(btf, "page", &size, error))
      return FALSE;
    if (size == 0 || size > 1024) {
      g_set_error(error, HW_ERROR, HW_ERROR_BTF, "struct page of %" G_GUINT64_FORMAT " bytes",
                  size);
      return FALSE;
    }
    lx->page_struct_size = (guint32)size;
  }
  if (lx->vmemmap == 0) {
    g_autoptr(GPtrArray) infos = hw_linux_find_vmcoreinfo(lx);
    g_autoptr(GError) last = NULL;
    for (guint i = 0; i < infos->len && lx->vmemmap == 0; i++) {
      g_clear_error(&last);
      vmemmap_from(lx, infos->pdata[i], &last);
    }
    if (lx->vmemmap == 0) {
      g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND,
                  "cannot tell where the kernel's struct pages are: %s",
                  last ? last->message : "no vmcoreinfo in guest RAM");
      return FALSE;
    }
  }
  if (page_va < lx->vmemmap || (page_va - lx->vmemmap) % lx->page_struct_size != 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE,
                "0x%" G_GINT64_MODIFIER "x is not a struct page", page_va);
    return FALSE;
  }
  guint64 pfn = (page_va - lx->vmemmap) / lx->page_struct_size;
  if (pfn > (G_MAXUINT64 >> 12)) {
    g_set_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE, "page frame %" G_GUINT64_FORMAT
                " out of reach", pfn);
    return FALSE;
  }
  *gpa = pfn * lx->info.page_size;
  return TRUE;
}
