/* Rendering: any memory drawn as pixels of a chosen format. The memory is read a page at
 * a time so that what cannot be read (unmapped pages, holes between RAM ranges) is known
 * page by page and drawn hatched instead of failing the picture. */
#include <haywire/carve.h>
#include <haywire/error.h>

#include <string.h>

struct _HwRenderMemory {
  guint64 addr;
  guint64 len;
  guint8 *data;          /* LEN bytes, zeros where unreadable */
  guint8 *readable;      /* per page from ADDR's: 1 if read */
  guint64 n_pages;
  guint64 unreadable;    /* bytes */
};

void
hw_render_memory_free(HwRenderMemory *m)
{
  if (m == NULL)
    return;
  g_free(m->data);
  g_free(m->readable);
  g_free(m);
}

HwRenderMemory *
hw_render_memory_read(const HwReader *r, guint64 addr, guint64 len, GError **error)
{
  if (r == NULL || r->read == NULL || len == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "nothing to read (%s)",
                len == 0 ? "no bytes" : "no reader");
    return NULL;
  }
  if (len > HW_CARVE_MAX_BYTES) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "%" G_GUINT64_FORMAT " bytes to draw: more "
                "than %u MiB", len, HW_CARVE_MAX_BYTES >> 20);
    return NULL;
  }
  guint64 last = addr + (len - 1);
  if (last < addr) {
    g_set_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE, "%" G_GUINT64_FORMAT " bytes at 0x%"
                G_GINT64_MODIFIER "x run past the end of the address space", len, addr);
    return NULL;
  }
  guint64 first_page = addr / HW_RENDER_PAGE;
  g_autoptr(HwRenderMemory) m = g_new0(HwRenderMemory, 1);
  m->addr = addr;
  m->len = len;
  m->n_pages = last / HW_RENDER_PAGE - first_page + 1;
  m->data = g_try_malloc0((gsize)len);
  m->readable = g_try_malloc0((gsize)m->n_pages);
  if (m->data == NULL || m->readable == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "no memory for %" G_GUINT64_FORMAT " bytes",
                len);
    return NULL;
  }
  for (guint64 p = 0; p < m->n_pages; p++) {
    /* The page's last byte, not its end: the top page of the space ends at 2^64. */
    guint64 page = (first_page + p) * HW_RENDER_PAGE;
    guint64 start = MAX(addr, page), end_incl = MIN(last, page + (HW_RENDER_PAGE - 1));
    gsize n = (gsize)(end_incl - start + 1);
    guint8 *dst = m->data + (start - addr);
    if (hw_reader_read(r, start, dst, n)) {
      m->readable[p] = 1;
    } else {
      memset(dst, 0, n);   /* a failed read may have filled part of it */
      m->unreadable += n;
    }
  }
  return g_steal_pointer(&m);
}

gboolean
hw_render_memory_readable(const HwRenderMemory *m, guint64 addr)
{
  if (m == NULL || addr < m->addr || addr - m->addr >= m->len)
    return FALSE;
  return m->readable[addr / HW_RENDER_PAGE - m->addr / HW_RENDER_PAGE] != 0;
}

guint64
hw_render_memory_get_unreadable(const HwRenderMemory *m)
{
  return m != NULL ? m->unreadable : 0;
}

const guint8 *
hw_render_memory_get_data(const HwRenderMemory *m, gsize *len)
{
  if (len != NULL)
    *len = m != NULL ? (gsize)m->len : 0;
  return m != NULL ? m->data : NULL;
}

/* Diagonal hatching for a pixel whose bytes could not be read. */
static void
hatch(guint8 *px, guint32 x, guint32 y)
{
  gboolean stripe = (((guint64)x + y) / 4) % 2 == 0;
  px[0] = stripe ? 0x60 : 0x30, px[1] = stripe ? 0x20 : 0x18, px[2] = stripe ? 0x40 : 0x28;
  px[3] = 255;
}

guint8 *
hw_render_draw(const HwRenderMemory *m, const HwRenderLayout *l, guint32 *out_width,
               guint32 *out_height, GError **error)
{
  guint64 span;
  if (m == NULL || l == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "no memory or no layout to draw");
    return NULL;
  }
  if (l->scale < 1 || l->scale > HW_RENDER_MAX_SCALE) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "scale %u is not 1 to %u",
                l->scale, HW_RENDER_MAX_SCALE);
    return NULL;
  }
  if (!hw_carve_pixels_check(l->format, l->width, l->height, l->stride, &span, error))
    return NULL;
  guint64 out_w = (guint64)l->width * l->scale, out_h = (guint64)l->height * l->scale;
  if (out_w > HW_RENDER_MAX_SIDE || out_h > HW_RENDER_MAX_SIDE) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "a %" G_GUINT64_FORMAT "x%" G_GUINT64_FORMAT
                " picture: more than %u pixels a side", out_w, out_h, HW_RENDER_MAX_SIDE);
    return NULL;
  }
  if (span > m->len) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "the rows cover %" G_GUINT64_FORMAT
                " bytes, but %" G_GUINT64_FORMAT " were read", span, m->len);
    return NULL;
  }
  g_autofree guint8 *px = hw_carve_pixels_to_rgba(l->format, l->width, l->height, l->stride,
                                                  m->data, (gsize)m->len, error);
  if (px == NULL)
    return NULL;
  guint bits = hw_pixel_format_bits(l->format);
  gboolean all_readable = m->unreadable == 0;   /* the usual case: no page to look up */
  for (guint32 y = 0; y < l->height && !(all_readable && l->keep_alpha); y++) {
    guint64 row_off = (guint64)y * l->stride;
    guint8 *row = px + (gsize)y * l->width * 4;
    for (guint32 x = 0; x < l->width; x++) {
      if (!l->keep_alpha)
        row[4 * (gsize)x + 3] = 255;
      if (!all_readable &&
          !hw_render_memory_readable(m, m->addr + row_off + (guint64)x * bits / 8))
        hatch(row + 4 * (gsize)x, x, y);
    }
  }
  if (l->scale == 1) {
    if (out_width != NULL)
      *out_width = (guint32)out_w;
    if (out_height != NULL)
      *out_height = (guint32)out_h;
    return g_steal_pointer(&px);
  }

  /* Each pixel a SCALE x SCALE square: one scaled row, copied SCALE times. */
  gsize out_row = (gsize)out_w * 4;
  guint8 *out = g_try_malloc(out_row * (gsize)out_h);
  if (out == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "no memory for a %" G_GUINT64_FORMAT "x%"
                G_GUINT64_FORMAT " picture", out_w, out_h);
    return NULL;
  }
  for (guint32 y = 0; y < l->height; y++) {
    const guint8 *src = px + (gsize)y * l->width * 4;
    guint8 *dst = out + (gsize)y * l->scale * out_row;
    for (guint32 x = 0; x < l->width; x++)
      for (guint32 sx = 0; sx < l->scale; sx++)
        memcpy(dst + ((gsize)x * l->scale + sx) * 4, src + 4 * (gsize)x, 4);
    for (guint32 sy = 1; sy < l->scale; sy++)
      memcpy(dst + sy * out_row, dst, out_row);
  }
  if (out_width != NULL)
    *out_width = (guint32)out_w;
  if (out_height != NULL)
    *out_height = (guint32)out_h;
  return out;
}
