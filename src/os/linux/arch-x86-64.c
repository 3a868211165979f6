/* Linux on x86-64: the kernel image is mapped in the fixed kernel-text window
 * (__START_KERNEL_map), _text at 0xffffffff81000000 plus the KASLR slide. */
#include "os/linux/linux-private.h"
#include <haywire/error.h>

#define KERNEL_MAP_START ((guint64)0xffffffff80000000ull)  /* __START_KERNEL_map */
#define KERNEL_MAP_END ((guint64)0xffffffffc0000000ull)
#define DEFAULT_TEXT_VA 0xffffffff81000000ull    /* _text with no KASLR */
#define TEXT_ALIGN (2ull << 20)                  /* KASLR moves the image in 2 MiB steps */

/* _text is the first mapped page of the window. */
static gboolean
x86_find_image(HwLinux *lx, GError **error)
{
  for (guint64 va = KERNEL_MAP_START; va < KERNEL_MAP_END; va += TEXT_ALIGN) {
    HwTranslation t;
    if (hw_mmu_translate(lx->kmmu, va, &t, NULL)) {
      lx->info.text_va = va;
      lx->info.text_gpa = t.pa;
      return TRUE;
    }
  }
  g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED,
              "no kernel image mapped at 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER
              "x: not a running x86-64 Linux kernel?", KERNEL_MAP_START, KERNEL_MAP_END);
  return FALSE;
}

static gboolean
x86_finish_image(HwLinux *lx, GError **error)
{
  return TRUE;
}

static gint64
x86_kaslr_slide(const HwLinux *lx)
{
  return (gint64)(lx->info.text_va - DEFAULT_TEXT_VA);
}

const HwLinuxArch hw_linux_arch_x86_64 = {
  .arch = HW_ARCH_X86_64,
  .find_image = x86_find_image,
  .finish_image = x86_finish_image,
  .kaslr_slide = x86_kaslr_slide,
};
