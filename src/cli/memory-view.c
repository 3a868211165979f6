/* Guest memory drawn as pixels, for `render` and the viewer. Unreadable parts
 * (unmapped pages, holes between RAM ranges) are hatched. */
#include "cli/memory-view.h"

/* Where a view reads from: through MMU, or guest-physical (holes read as zeros without
 * touching the mapping). The memory vanishing (QEMU exited) fails the view; other
 * unreadable bytes are hatched. */
typedef struct {
  const HwMmu *mmu;
  const HwExtents *holes;
  const HwPhysMem *mem;
  GError *gone;         /* set once the memory vanished: nothing more is read */
} Source;

static gboolean
source_read(gpointer ctx, guint64 addr, void *buf, gsize len)
{
  Source *s = ctx;
  g_autoptr(GError) e = NULL;
  if (s->gone != NULL)
    return FALSE;
  gboolean got = s->mmu ? hw_mmu_read(s->mmu, addr, buf, len, &e)
                        : hw_extents_read(s->holes, s->mem, addr, buf, len, &e);
  if (!got && g_error_matches(e, HW_ERROR, HW_ERROR_GONE))
    s->gone = g_steal_pointer(&e);
  return got;
}

gboolean
hw_memory_view_check(HwMemoryView *v, guint64 *total, GError **error)
{
  HwRenderLayout *l = &v->layout;
  if (l->width == 0 || l->height == 0 || l->width > HW_RENDER_MAX_SIDE ||
      l->height > HW_RENDER_MAX_SIDE) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "the width and height must be between 1 and %u", HW_RENDER_MAX_SIDE);
    return FALSE;
  }
  if (l->scale < 1 || l->scale > HW_RENDER_MAX_SCALE ||
      (guint64)l->width * l->scale > HW_RENDER_MAX_SIDE ||
      (guint64)l->height * l->scale > HW_RENDER_MAX_SIDE) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "the scale must be 1-%u and the picture at most %u pixels a side",
                HW_RENDER_MAX_SCALE, HW_RENDER_MAX_SIDE);
    return FALSE;
  }
  if (v->phys && v->pid) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "a physical address and a process exclude each other");
    return FALSE;
  }
  if (v->pid < 0 || v->cpu < 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "bad pid or vCPU");
    return FALSE;
  }
  guint64 row_bytes = hw_carve_row_bytes(l->format, l->width);
  if (l->stride == 0)
    l->stride = row_bytes;
  if (l->stride < row_bytes) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "the stride %" G_GUINT64_FORMAT " is less than a row of %u pixels (%"
                G_GUINT64_FORMAT " bytes)", l->stride, l->width, row_bytes);
    return FALSE;
  }
  g_autoptr(GError) e = NULL;
  if (!hw_carve_pixels_check(l->format, l->width, l->height, l->stride, total, &e)) {
    if (g_error_matches(e, HW_ERROR, HW_ERROR_LIMIT))
      g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "the picture covers more than %uM of "
                  "memory", HW_CARVE_MAX_BYTES >> 20);
    else
      g_propagate_error(error, g_steal_pointer(&e));
    return FALSE;
  }
  if (v->addr + *total - 1 < v->addr) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "the address plus the picture's bytes wrap around");
    return FALSE;
  }
  return TRUE;
}

guint8 *
hw_memory_view_draw(HwCli *cli, const HwMemoryView *v, guint32 *width, guint32 *height,
                    guint64 *unreadable, const char **state, GError **error)
{
  guint64 total = 0;
  if (!hw_carve_pixels_check(v->layout.format, v->layout.width, v->layout.height,
                             v->layout.stride, &total, error))
    return NULL;
  if (!v->live && !hw_cli_pause(cli, error))
    return NULL;
  *state = hw_cli_state(cli, v->live);
  g_autoptr(HwMmu) mmu = v->phys ? NULL : hw_cli_mmu(cli, v->cpu, NULL, v->pid, error);
  HwPhysMem *mem = hw_guest_get_physmem(cli->guest);
  g_autoptr(HwExtents) holes = v->phys ? hw_physmem_get_extents(mem) : NULL;
  Source src = { .mmu = mmu, .holes = holes, .mem = mem };
  HwReader reader = { .read = source_read, .ctx = &src };
  gboolean ok = v->phys || mmu != NULL;
  g_autoptr(HwRenderMemory) pic = ok ? hw_render_memory_read(&reader, v->addr, total, error)
                                     : NULL;
  if (ok && pic == NULL)
    ok = FALSE;
  if (src.gone != NULL) {
    g_clear_error(error);
    g_propagate_error(error, g_steal_pointer(&src.gone));
    ok = FALSE;
  }
  if (!hw_cli_release_after(cli, ok, error))
    return NULL;
  guint8 *rgba = hw_render_draw(pic, &v->layout, width, height, error);
  if (rgba != NULL)
    *unreadable = hw_render_memory_get_unreadable(pic);
  return rgba;
}
