/* PNG files (8-bit RGBA) through libpng; its errors come back as GError, not as an abort. */
#include <haywire/picture.h>
#include <haywire/error.h>

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

/* What went wrong inside libpng, filled in by the callbacks before they longjmp. */
typedef struct {
  FILE *f;
  int write_errno;       /* errno of a failed write or flush, 0 for libpng's own complaints */
  char message[256];
} Sink;

static void G_GNUC_NORETURN
on_png_error(png_structp png, png_const_charp message)
{
  Sink *sink = png_get_error_ptr(png);
  g_strlcpy(sink->message, message ? message : "unknown error", sizeof sink->message);
  png_longjmp(png, 1);
}

static void
on_png_warning(png_structp png, png_const_charp message)
{
  g_debug("libpng: %s", message);
}

/* Our own write and flush keep errno (ENOSPC, EIO), which libpng's stdio ones lose. */
static void
on_png_write(png_structp png, png_bytep data, png_size_t len)
{
  Sink *sink = png_get_io_ptr(png);
  if (fwrite(data, 1, len, sink->f) != len) {
    sink->write_errno = errno ? errno : EIO;
    png_error(png, "write failed");
  }
}

static void
on_png_flush(png_structp png)
{
  Sink *sink = png_get_io_ptr(png);
  if (fflush(sink->f) != 0) {
    sink->write_errno = errno ? errno : EIO;
    png_error(png, "flush failed");
  }
}

/* Encode the pixels into SINK->f; FALSE with SINK filled in on failure. Kept apart from
 * the caller so that nothing the caller owns changes between setjmp and longjmp. */
static gboolean
encode(Sink *sink, guint32 width, guint32 height, const guint8 *rgba, gsize stride)
{
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, sink, on_png_error,
                                            on_png_warning);
  if (png == NULL) {
    g_strlcpy(sink->message, "cannot create the encoder", sizeof sink->message);
    return FALSE;
  }
  png_infop info = png_create_info_struct(png);
  if (info == NULL) {
    png_destroy_write_struct(&png, NULL);
    g_strlcpy(sink->message, "cannot create the encoder", sizeof sink->message);
    return FALSE;
  }
  if (setjmp(png_jmpbuf(png))) {
    /* png and info were set before setjmp and not changed since: safe to read here. */
    png_destroy_write_struct(&png, &info);
    return FALSE;
  }
  png_set_write_fn(png, sink, on_png_write, on_png_flush);
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (guint32 y = 0; y < height; y++)
    png_write_row(png, rgba + (gsize) y * stride);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return TRUE;
}

gboolean
hw_png_write_rgba(const char *path, guint32 width, guint32 height, const guint8 *rgba,
                  gsize stride, GError **error)
{
  Sink sink = { 0 };
  struct stat st;

  if (width == 0 || height == 0 || rgba == NULL || stride < (gsize) width * 4) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "cannot write a %ux%u picture with rows %" G_GSIZE_FORMAT " bytes apart",
                width, height, stride);
    return FALSE;
  }
  sink.f = fopen(path, "wb");
  if (sink.f == NULL) {
    int e = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot create %s: %s", path,
                g_strerror(e));
    return FALSE;
  }
  /* Only a regular file is ours to remove on failure (never /dev/full or a FIFO). */
  gboolean regular = fstat(fileno(sink.f), &st) == 0 && S_ISREG(st.st_mode);

  gboolean ok = encode(&sink, width, height, rgba, stride);
  if (fclose(sink.f) != 0 && ok) {
    sink.write_errno = errno;
    ok = FALSE;
  }
  if (ok)
    return TRUE;
  if (regular)
    g_unlink(path);
  if (sink.write_errno != 0)
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(sink.write_errno),
                "cannot write %s: %s", path, g_strerror(sink.write_errno));
  else
    g_set_error(error, HW_ERROR, HW_ERROR_FAILED, "cannot write %s: libpng: %s", path,
                sink.message);
  return FALSE;
}

gboolean
hw_canvas_write_png(const HwCanvas *c, const char *path, GError **error)
{
  return hw_png_write_rgba(path, c->width, c->height, c->rgba, (gsize) c->width * 4, error);
}
