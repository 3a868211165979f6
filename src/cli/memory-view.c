/* Guest memory drawn as pixels, for `render` and the viewer. Unreadable parts
 * (unmapped pages, holes between RAM ranges) are hatched. */
#include "cli/memory-view.h"

#include <string.h>

/* Where a view reads from: through MMU, or guest-physical (holes read as zeros without
 * touching the mapping). The memory vanishing (QEMU exited) fails the view; other
 * unreadable bytes are hatched. */
typedef struct {
  HwMmu *mmu;
  HwExtents *holes;
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

/* Pause the guest unless V is live (*STATE: the moment read), and open V's address
 * space into SRC for reads of the LEN bytes at V's address (physical: the memory file's
 * holes there found); FALSE with *ERROR (the guest as it was: released). */
static gboolean
source_open(HwCli *cli, const HwMemoryView *v, guint64 len, Source *src, const char **state,
            GError **error)
{
  if (!v->live && !hw_cli_pause(cli, error))
    return FALSE;
  *state = hw_cli_state(cli, v->live);
  HwMmu *mmu = v->phys ? NULL : hw_cli_mmu(cli, v->cpu, NULL, v->pid, error);
  HwPhysMem *mem = hw_guest_get_physmem(cli->guest);
  *src = (Source){ .mmu = mmu, .holes = v->phys ? hw_physmem_get_extents_in(mem, v->addr, len)
                                                 : NULL,
                   .mem = mem };
  if (v->phys || mmu != NULL)
    return TRUE;
  hw_cli_release_after(cli, FALSE, error);
  return FALSE;
}

/* Release what source_open() took and the guest; OK and *ERROR as for
 * hw_cli_release_after (the memory vanishing is the error then). */
static gboolean
source_close(HwCli *cli, Source *src, gboolean ok, GError **error)
{
  if (src->gone != NULL) {
    g_clear_error(error);
    g_propagate_error(error, g_steal_pointer(&src->gone));
    ok = FALSE;
  }
  if (src->mmu)
    hw_mmu_free(src->mmu);
  if (src->holes)
    hw_extents_free(src->holes);
  return hw_cli_release_after(cli, ok, error);
}

guint8 *
hw_memory_view_draw(HwCli *cli, const HwMemoryView *v, guint32 *width, guint32 *height,
                    guint64 *unreadable, const char **state, GError **error)
{
  guint64 total = 0;
  if (!hw_carve_pixels_check(v->layout.format, v->layout.width, v->layout.height,
                             v->layout.stride, &total, error))
    return NULL;
  Source src;
  if (!source_open(cli, v, total, &src, state, error))
    return NULL;
  HwReader reader = { .read = source_read, .ctx = &src };
  g_autoptr(HwRenderMemory) pic = hw_render_memory_read(&reader, v->addr, total, error);
  if (!source_close(cli, &src, pic != NULL, error))
    return NULL;
  guint8 *rgba = hw_render_draw(pic, &v->layout, width, height, error);
  if (rgba != NULL)
    *unreadable = hw_render_memory_get_unreadable(pic);
  return rgba;
}

guint
hw_memory_view_guess(HwCli *cli, const HwMemoryView *v, guint64 len, const HwPixelFormat *formats,
                     guint n_formats, guint per_format, HwStrideGuess *out, guint max,
                     const char **state, GError **error)
{
  Source src;
  if (!source_open(cli, v, len, &src, state, error))
    return G_MAXUINT;
  HwReader reader = { .read = source_read, .ctx = &src };
  guint got = 0;
  for (guint i = 0; i < n_formats && got < max; i++)
    got += hw_image_guess_strides(&reader, v->addr, len, formats[i], out + got,
                                  MIN(per_format, max - got));
  if (!source_close(cli, &src, TRUE, error))
    return G_MAXUINT;
  return got;
}

gboolean
hw_memory_view_peek(HwCli *cli, const HwMemoryView *v, guint len, HwMemoryPeek *out,
                    HwMemoryPeekFunc while_paused, gpointer data, GError **error)
{
  *out = (HwMemoryPeek){ .addr = v->addr, .len = MIN(len, (guint)HW_MEMORY_PEEK_MAX) };
  if (out->len == 0 || v->addr + out->len - 1 < v->addr) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "the bytes to show: 1 to %u, not wrapping around", HW_MEMORY_PEEK_MAX);
    return FALSE;
  }
  Source src;
  if (!source_open(cli, v, out->len, &src, &out->state, error))
    return FALSE;
  /* Page by page: an unreadable page leaves its bytes marked, not the whole answer. */
  for (guint at = 0; at < out->len && src.gone == NULL;) {
    guint64 a = v->addr + at;
    guint n = (guint)MIN((guint64)(out->len - at), HW_PAGE_SIZE - a % HW_PAGE_SIZE);
    gboolean got = source_read(&src, a, out->bytes + at, n);
    memset(out->readable + at, got, n);
    at += n;
  }
  HwTranslation t;
  if (v->phys)
    out->gpa = v->addr, out->has_gpa = TRUE;
  else if (hw_mmu_translate(src.mmu, v->addr, &t, NULL))
    out->gpa = t.pa, out->has_gpa = TRUE;
  if (src.gone == NULL && while_paused)
    while_paused(cli, out, data);
  return source_close(cli, &src, TRUE, error);
}
