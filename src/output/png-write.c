/* PNG files through libpng's simplified write API (8-bit RGBA). */
#include <haywire/picture.h>
#include <haywire/error.h>

#include <errno.h>
#include <png.h>
#include <string.h>
#include <stdio.h>
#include <glib/gstdio.h>

gboolean
hw_png_write_rgba(const char *path, guint32 width, guint32 height, const guint8 *rgba,
                  gsize stride, GError **error)
{
  if (width == 0 || height == 0 || stride < (gsize)width * 4 || stride > G_MAXINT32) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "cannot write a %ux%u picture",
                width, height);
    return FALSE;
  }
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    int e = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot create %s: %s", path,
                g_strerror(e));
    return FALSE;
  }
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = width;
  img.height = height;
  img.format = PNG_FORMAT_RGBA;
  gboolean ok = png_image_write_to_stdio(&img, f, 0, rgba, (png_int_32)stride, NULL) != 0;
  g_autofree char *why = g_strdup(ok ? "" : img.message);
  png_image_free(&img);
  int e = 0;
  if (fclose(f) != 0 && ok) {
    e = errno;
    ok = FALSE;
  }
  if (!ok) {
    g_unlink(path);
    g_set_error(error, G_IO_ERROR, e ? g_io_error_from_errno(e) : G_IO_ERROR_FAILED,
                "cannot write %s: %s", path, e ? g_strerror(e) : why);
  }
  return ok;
}

gboolean
hw_canvas_write_png(const HwCanvas *c, const char *path, GError **error)
{
  return hw_png_write_rgba(path, c->width, c->height, c->rgba, (gsize)c->width * 4, error);
}
