/* The RGBA canvas: filled rectangles and text, everything clipped to the canvas. */
#include <haywire/picture.h>
#include "output/font.h"

#include <string.h>

#define MAX_SIDE 65535u

HwCanvas *
hw_canvas_new(guint32 width, guint32 height)
{
  if (width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE)
    return NULL;
  /* Up to 16 GiB of pixels: fail like a bad size rather than abort. */
  guint8 *rgba = g_try_malloc0((gsize)width * height * 4);
  if (rgba == NULL)
    return NULL;
  HwCanvas *c = g_new0(HwCanvas, 1);
  c->width = width;
  c->height = height;
  c->rgba = rgba;
  for (gsize i = 3; i < (gsize)width * height * 4; i += 4)
    c->rgba[i] = 255;
  return c;
}

void
hw_canvas_free(HwCanvas *c)
{
  if (c == NULL)
    return;
  g_free(c->rgba);
  g_free(c);
}

void
hw_canvas_fill_rect(HwCanvas *c, gint64 x, gint64 y, gint64 w, gint64 h, guint32 rgb)
{
  if (w <= 0 || h <= 0 || x >= (gint64)c->width || y >= (gint64)c->height)
    return;
  /* x + w cannot overflow for a negative x; for x >= 0, width - x cannot. */
  gint64 x0 = MAX(x, 0), y0 = MAX(y, 0);
  gint64 x1 = x >= 0 && w > (gint64)c->width - x ? (gint64)c->width
                                                 : MIN(x + w, (gint64)c->width);
  gint64 y1 = y >= 0 && h > (gint64)c->height - y ? (gint64)c->height
                                                  : MIN(y + h, (gint64)c->height);
  for (gint64 yy = y0; yy < y1; yy++)
    for (gint64 xx = x0; xx < x1; xx++) {
      guint8 *p = c->rgba + ((gsize)yy * c->width + (gsize)xx) * 4;
      p[0] = (guint8)(rgb >> 16), p[1] = (guint8)(rgb >> 8), p[2] = (guint8)rgb, p[3] = 255;
    }
}

/* A UTF-8 continuation byte: the rest of a character already drawn as one box. */
static gboolean
is_continuation(char ch)
{
  return ((guchar)ch & 0xc0) == 0x80;
}

gint64
hw_canvas_text_width(const char *text, guint scale)
{
  gint64 n = 0;
  for (const char *t = text ? text : ""; *t; t++)
    n += !is_continuation(*t);
  return n == 0 ? 0 : (n * HW_FONT_ADVANCE - 1) * (gint64)MAX(scale, 1);
}

gint64
hw_canvas_draw_text(HwCanvas *c, gint64 x, gint64 y, const char *text, guint32 rgb,
                    guint scale)
{
  scale = MAX(scale, 1);
  for (const char *t = text ? text : ""; *t; t++) {
    if (is_continuation(*t))
      continue;
    const guint8 *g = hw_font_glyph(*t);
    gint64 top = y + (hw_font_descends(*t) ? HW_FONT_DESCENT * (gint64)scale : 0);
    for (int row = 0; row < HW_FONT_H; row++)
      for (int col = 0; col < HW_FONT_W; col++)
        if (g[row] & (0x10 >> col))
          hw_canvas_fill_rect(c, x + col * (gint64)scale, top + row * (gint64)scale, scale,
                              scale, rgb);
    x += HW_FONT_ADVANCE * (gint64)scale;
  }
  return x;
}
