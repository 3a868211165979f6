/* Kernel-virtual reads through the kernel's page tables, bounded and checked. */
#include "os/linux/linux-private.h"
#include <haywire/error.h>

#include <string.h>

gboolean
hw_linux_is_kernel_ptr(guint64 va)
{
  return va >= 0xff00000000000000ull && (va & 7) == 0;
}

gboolean
hw_linux_read(const HwLinux *lx, guint64 va, void *buf, gsize len, GError **error)
{
  return hw_mmu_read(lx->kmmu, va, buf, len, error);
}

gboolean
hw_linux_read_u64(const HwLinux *lx, guint64 va, guint64 *out, GError **error)
{
  return hw_mmu_read(lx->kmmu, va, out, sizeof *out, error);
}

gboolean
hw_linux_read_u32(const HwLinux *lx, guint64 va, guint32 *out, GError **error)
{
  return hw_mmu_read(lx->kmmu, va, out, sizeof *out, error);
}

char *
hw_linux_read_string(const HwLinux *lx, guint64 va, gsize max, GError **error)
{
  g_autofree char *buf = g_malloc0(max + 1);
  /* Read up to the end of the page first: the rest may not be mapped. */
  gsize first = MIN(max, 4096 - (va & 4095));
  if (!hw_mmu_read(lx->kmmu, va, buf, first, error))
    return NULL;
  if (memchr(buf, '\0', first) == NULL && first < max &&
      !hw_mmu_read(lx->kmmu, va + first, buf + first, max - first, error))
    return NULL;
  buf[max] = '\0';
  return g_steal_pointer(&buf);
}
