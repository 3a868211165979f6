/* PNG through libpng, from memory: every row inflated and unfiltered, then through
 * IEND. libpng reports errors by longjmp: everything allocated lives in a PngRead that
 * the caller of the setjmp frame frees, so no local is needed after the jump. */
#include <haywire/error.h>
#include "scan/byte-order.h"
#include "scan/decode.h"

#include <png.h>
#include <string.h>

typedef struct {
  const guint8 *data;
  gsize len, pos;
  png_structp png;
  png_infop info;
  guint8 *row;          /* one row when only checking */
  guint8 *rgba;
  char message[128];
} PngRead;

static void
on_error(png_structp png, png_const_charp msg)
{
  PngRead *s = png_get_error_ptr(png);
  g_strlcpy(s->message, msg, sizeof s->message);
  png_longjmp(png, 1);
}

static void
on_warning(png_structp png, png_const_charp msg)
{
  /* Warnings (an unknown ancillary chunk, say) do not refuse a file. */
}

static void
on_read(png_structp png, png_bytep out, png_size_t len)
{
  PngRead *s = png_get_io_ptr(png);
  if (len > s->len - s->pos)
    png_error(png, "file truncated");
  memcpy(out, s->data + s->pos, len);
  s->pos += len;
}

/* Everything between the setjmp and its jump: state only in S. */
static gboolean
run(PngRead *s, guint max_pixels, gboolean want_rgba, GError **error)
{
  if (setjmp(png_jmpbuf(s->png))) {
    g_set_error(error, HW_ERROR, HW_ERROR_DECODE, "libpng: %s", s->message);
    return FALSE;
  }
  png_set_read_fn(s->png, s, on_read);
  /* Bound what libpng itself allocates for ancillary chunks (text, ICC profiles). */
  png_set_chunk_malloc_max(s->png, 8u << 20);
  png_read_info(s->png, s->info);
  png_uint_32 w = png_get_image_width(s->png, s->info), h = png_get_image_height(s->png, s->info);
  if (!hw_decode_check_size(w, h, max_pixels, error))
    return FALSE;
  /* Every format to 8-bit RGBA: palettes and gray expanded, 16 bits cut, alpha added. */
  png_set_expand(s->png);
  png_set_strip_16(s->png);
  png_set_gray_to_rgb(s->png);
  png_set_add_alpha(s->png, 0xff, PNG_FILLER_AFTER);
  int passes = png_set_interlace_handling(s->png);
  png_read_update_info(s->png, s->info);
  if (png_get_rowbytes(s->png, s->info) != (gsize)w * 4)
    png_error(s->png, "unexpected row size after the transforms");
  if (want_rgba) {
    if ((s->rgba = hw_decode_alloc_rgba(w, h, error)) == NULL)
      return FALSE;
  } else {
    s->row = g_malloc((gsize)w * 4);
  }
  for (int p = 0; p < passes; p++)
    for (png_uint_32 y = 0; y < h; y++)
      png_read_row(s->png, s->rgba ? s->rgba + (gsize)y * w * 4 : s->row, NULL);
  png_read_end(s->png, NULL);
  return TRUE;
}

/* Whether every chunk up to IEND lies within the LEN bytes at DATA: libpng allocates
 * what a chunk's length says before it reads it (a text chunk claiming 1.6 GB was
 * allocated whole, whatever the limits set below). */
static gboolean
chunks_fit(const guint8 *data, gsize len, GError **error)
{
  gsize pos = 8;
  for (guint n = 0; pos + 12 <= len && n < (1u << 20); n++) {
    guint32 chunk = hw_be32(data + pos);
    if (chunk > len - pos - 12) {
      g_set_error(error, HW_ERROR, HW_ERROR_DECODE, "libpng: a chunk runs past the file's end");
      return FALSE;
    }
    if (memcmp(data + pos + 4, "IEND", 4) == 0)
      return TRUE;
    pos += 12 + (gsize)chunk;
  }
  g_set_error(error, HW_ERROR, HW_ERROR_DECODE, "libpng: no IEND chunk");
  return FALSE;
}

gboolean
hw_decode_png(const guint8 *data, gsize len, guint max_pixels, guint32 *width,
              guint32 *height, guint8 **rgba, GError **error)
{
  if (!chunks_fit(data, len, error))
    return FALSE;
  PngRead s = { .data = data, .len = len };
  s.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, on_error, on_warning);
  if (s.png == NULL || (s.info = png_create_info_struct(s.png)) == NULL) {
    png_destroy_read_struct(s.png ? &s.png : NULL, NULL, NULL);
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "libpng: no memory");
    return FALSE;
  }
  gboolean ok = run(&s, max_pixels, rgba != NULL, error);
  if (ok) {
    *width = png_get_image_width(s.png, s.info);
    *height = png_get_image_height(s.png, s.info);
    if (rgba != NULL)
      *rgba = g_steal_pointer(&s.rgba);
  }
  png_destroy_read_struct(&s.png, &s.info, NULL);
  g_free(s.row);
  g_free(s.rgba);
  return ok;
}
