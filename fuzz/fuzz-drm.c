/* Fuzz the DRM walk over arbitrary kernel memory: the processes' fd tables, DRM files,
 * devices, framebuffer and plane lists, GEM objects (shmem page arrays, TTM resources in
 * VRAM or system pages), and reading a framebuffer's pixels through its extents. The
 * input is mapped at the kernel's direct map after the page tables, with made-up struct
 * layouts (tests/unit/drm-guest.h); init_task is its first byte. */
#include <haywire/haywire.h>
#include "drm-guest.h"

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

#define FUZZ_MAX_INPUT (1u << 20)

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
  if (size < layout.task_size || size > FUZZ_MAX_INPUT)
    return 0;
  DrmGuest g;
  if (!drm_guest_map(&g, data, size)) {
    drm_guest_unmap(&g);
    return 0;
  }
  gboolean partial = FALSE;
  HwDrm *drm = hw_linux_drm_walk(&g.lx, &drm_layout, &partial, NULL);
  if (drm != NULL) {
    guint n = 0;
    const HwDrmFramebuffer *fb = hw_drm_get_framebuffers(drm, &n);
    for (guint i = 0; i < n && i < 8; i++) {
      guint8 *px = NULL;
      gsize len = 0;
      if (hw_drm_read_pixels(&fb[i], g.mem, &px, &len, &partial, NULL) && len == 0)
        __builtin_trap();
      g_free(px);
    }
    hw_drm_get_screen(drm);
    hw_drm_free(drm);
  }
  drm_guest_unmap(&g);
  return 0;
}
