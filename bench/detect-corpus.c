/* The detection benchmark's corpus: pictures from Debian's packages decoded with libwebp,
 * libpng and libjpeg, real non-image pages, and the encoders for the file cases. */
#include "detect-corpus.h"

#include <stdio.h>   /* before jpeglib.h, which uses FILE */
#include <gif_lib.h>
#include <jpeglib.h>
#include <png.h>
#include <string.h>
#include <webp/decode.h>
#include <webp/encode.h>

#define PAGE 4096u

const char *const corpus_encoding_names[CORPUS_N_ENCODINGS] = { "png", "jpeg", "gif", "bmp",
                                                                "webp" };

void
picture_free(Picture *p)
{
  if (p == NULL)
    return;
  g_free(p->name);
  g_free(p->rgba);
  g_free(p);
}

static guint8 *
decode_webp(const guint8 *data, gsize len, guint *w, guint *h)
{
  int iw, ih;
  guint8 *out = WebPDecodeRGBA(data, len, &iw, &ih);
  if (out == NULL)
    return NULL;
  *w = (guint)iw, *h = (guint)ih;
  guint8 *copy = g_memdup2(out, (gsize)iw * (gsize)ih * 4);
  WebPFree(out);
  return copy;
}

static guint8 *
decode_png(const guint8 *data, gsize len, guint *w, guint *h)
{
  png_image img = { .version = PNG_IMAGE_VERSION };
  if (!png_image_begin_read_from_memory(&img, data, len))
    return NULL;
  img.format = PNG_FORMAT_RGBA;
  guint8 *out = g_malloc(PNG_IMAGE_SIZE(img));
  if (!png_image_finish_read(&img, NULL, out, 0, NULL)) {
    g_free(out);
    png_image_free(&img);
    return NULL;
  }
  *w = img.width, *h = img.height;
  return out;
}

static guint8 *
decode_jpeg(const guint8 *data, gsize len, guint *w, guint *h)
{
  struct jpeg_decompress_struct d;
  struct jpeg_error_mgr jerr;
  d.err = jpeg_std_error(&jerr);   /* our own files: exit on error is acceptable here */
  jpeg_create_decompress(&d);
  jpeg_mem_src(&d, data, (unsigned long)len);
  jpeg_read_header(&d, TRUE);
  d.out_color_space = JCS_EXT_RGBA;
  jpeg_start_decompress(&d);
  *w = d.output_width, *h = d.output_height;
  guint8 *out = g_malloc((gsize)*w * *h * 4);
  while (d.output_scanline < d.output_height) {
    JSAMPROW row = out + (gsize)d.output_scanline * *w * 4;
    jpeg_read_scanlines(&d, &row, 1);
  }
  jpeg_finish_decompress(&d);
  jpeg_destroy_decompress(&d);
  return out;
}

static void
add_picture(GPtrArray *out, const char *path, guint min_side)
{
  g_autofree char *data = NULL;
  gsize len;
  if (!g_file_get_contents(path, &data, &len, NULL))
    return;
  guint w = 0, h = 0;
  guint8 *rgba = NULL;
  if (g_str_has_suffix(path, ".webp"))
    rgba = decode_webp((const guint8 *)data, len, &w, &h);
  else if (g_str_has_suffix(path, ".png"))
    rgba = decode_png((const guint8 *)data, len, &w, &h);
  else if (g_str_has_suffix(path, ".jpg"))
    rgba = decode_jpeg((const guint8 *)data, len, &w, &h);
  if (rgba == NULL || w < min_side || h < min_side) {
    g_free(rgba);
    return;
  }
  Picture *p = g_new0(Picture, 1);
  p->name = g_path_get_basename(path);
  p->width = w, p->height = h, p->rgba = rgba;
  p->source = strstr(path, "/backgrounds/") ? "background"
              : strstr(path, "/icons/")     ? "icon"
              : strstr(path, "/doc/")       ? "figure"
                                            : "other";
  /* The half by the name without a light/dark suffix and extension. */
  g_autofree char *stem = g_strdup(p->name);
  char *dot = strrchr(stem, '.');
  if (dot)
    *dot = 0;
  gsize n = strlen(stem);
  if (n > 2 && stem[n - 2] == '-' && (stem[n - 1] == 'l' || stem[n - 1] == 'd'))
    stem[n - 2] = 0;
  p->half = (g_str_hash(stem) >> 7) & 1;
  g_ptr_array_add(out, p);
}

static void
walk(const char *dir, GPtrArray *paths, guint depth)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  if (d == NULL || depth > 8)
    return;
  while ((name = g_dir_read_name(d)) != NULL) {
    char *path = g_build_filename(dir, name, NULL);
    if (g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
      g_free(path);
    } else if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
      walk(path, paths, depth + 1);
      g_free(path);
    } else {
      g_ptr_array_add(paths, path);
    }
  }
}

static gint
compare_str(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *
corpus_load_pictures(char **dirs, guint limit, guint min_side)
{
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)picture_free);
  for (guint i = 0; dirs && dirs[i]; i++) {
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    walk(dirs[i], paths, 0);
    g_ptr_array_sort(paths, compare_str);   /* the same corpus every run */
    guint before = out->len;
    /* Spread the LIMIT over the directory, not its first entries. */
    guint step = MAX(paths->len / MAX(limit, 1u), 1u);
    for (guint k = 0; k < paths->len && out->len - before < limit; k += step)
      add_picture(out, g_ptr_array_index(paths, k), min_side);
  }
  return out;
}

static gboolean
page_is_zero(const guint8 *p)
{
  for (guint i = 0; i < PAGE; i++)
    if (p[i])
      return FALSE;
  return TRUE;
}

/* Append the non-zero pages of the file at PATH to OUT, at most MAX bytes. */
static guint64
add_pages(GByteArray *out, const char *path, guint64 max, GArray *origins)
{
  FILE *f = fopen(path, "rb");
  guint8 page[PAGE];
  guint64 added = 0;
  if (f == NULL)
    return 0;
  for (guint64 at = 0; added < max; at += PAGE) {
    size_t n = fread(page, 1, PAGE, f);
    if (n == 0)
      break;
    memset(page + n, 0, PAGE - n);
    if (!page_is_zero(page)) {
      g_byte_array_append(out, page, PAGE);
      added += PAGE;
      if (origins)
        g_array_append_val(origins, ((PageOrigin){ path, at }));
    }
  }
  fclose(f);
  return added;
}

static gboolean
is_image_file(const char *path)
{
  static const char *ext[] = { ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".ico",
                               ".xpm", ".svg", ".tga", ".tiff", ".cur" };
  for (guint i = 0; i < G_N_ELEMENTS(ext); i++)
    if (g_str_has_suffix(path, ext[i]))
      return TRUE;
  return FALSE;
}

guint8 *
corpus_load_pages(char **filler_dirs, guint64 filler_bytes, gsize *n_pages, GArray **origins,
                  GPtrArray **paths_out)
{
  GByteArray *out = g_byte_array_new();
  GArray *from = origins ? g_array_new(FALSE, FALSE, sizeof(PageOrigin)) : NULL;
  GPtrArray *kept = g_ptr_array_new_with_free_func(g_free);
  guint64 left = filler_bytes;
  for (guint i = 0; filler_dirs && filler_dirs[i] && left > 0; i++) {
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    walk(filler_dirs[i], paths, 0);
    g_ptr_array_sort(paths, compare_str);
    for (guint k = 0; k < paths->len && left > 0; k++) {
      char *path = g_ptr_array_index(paths, k);
      if (is_image_file(path))
        continue;
      path = g_strdup(path);
      g_ptr_array_add(kept, path);
      left -= add_pages(out, path, MIN(left, (guint64)64 << 20), from);
    }
  }
  *n_pages = out->len / PAGE;
  if (origins)
    *origins = from;
  if (paths_out)
    *paths_out = kept;
  else
    g_ptr_array_unref(kept);
  return g_byte_array_free(out, FALSE);
}

guint8 *
picture_resize(const Picture *p, guint w, guint h)
{
  guint8 *out = g_malloc((gsize)w * h * 4);
  for (guint y = 0; y < h; y++) {
    guint y0 = (guint)((guint64)y * p->height / h), y1 = (guint)((guint64)(y + 1) * p->height / h);
    y1 = MAX(y1, y0 + 1);
    for (guint x = 0; x < w; x++) {
      guint x0 = (guint)((guint64)x * p->width / w), x1 = (guint)((guint64)(x + 1) * p->width / w);
      x1 = MAX(x1, x0 + 1);
      guint64 sum[4] = { 0 }, n = 0;
      /* A box of at most 4x4 samples: enough for a benchmark's downscale. */
      guint sx = MAX((x1 - x0) / 4, 1u), sy = MAX((y1 - y0) / 4, 1u);
      for (guint yy = y0; yy < y1; yy += sy)
        for (guint xx = x0; xx < x1; xx += sx, n++)
          for (guint c = 0; c < 4; c++)
            sum[c] += p->rgba[((gsize)yy * p->width + xx) * 4 + c];
      for (guint c = 0; c < 4; c++)
        out[((gsize)y * w + x) * 4 + c] = (guint8)(sum[c] / n);
    }
  }
  return out;
}

void
pixels_write(HwPixelFormat f, const guint8 *rgba, guint w, guint h, guint8 *dst, gsize stride)
{
  for (guint y = 0; y < h; y++) {
    guint8 *row = dst + (gsize)y * stride;
    for (guint x = 0; x < w; x++) {
      const guint8 *s = rgba + ((gsize)y * w + x) * 4;
      guint a = s[3];
      guint8 r = (guint8)((s[0] * a + 255 * (255 - a)) / 255);
      guint8 g = (guint8)((s[1] * a + 255 * (255 - a)) / 255);
      guint8 b = (guint8)((s[2] * a + 255 * (255 - a)) / 255);
      switch (f) {
      case HW_PIXEL_RGB888:
        row[3 * x] = r, row[3 * x + 1] = g, row[3 * x + 2] = b;
        break;
      case HW_PIXEL_BGR888:
        row[3 * x] = b, row[3 * x + 1] = g, row[3 * x + 2] = r;
        break;
      case HW_PIXEL_RGBA8888:   /* straight alpha, as decoders give it */
        memcpy(row + 4 * x, s, 4);
        break;
      case HW_PIXEL_BGRA8888:
        row[4 * x] = s[2], row[4 * x + 1] = s[1], row[4 * x + 2] = s[0], row[4 * x + 3] = s[3];
        break;
      case HW_PIXEL_XRGB8888:
        row[4 * x] = b, row[4 * x + 1] = g, row[4 * x + 2] = r, row[4 * x + 3] = 0;
        break;
      case HW_PIXEL_RGB565: {
        guint v = (guint)(r >> 3) << 11 | (guint)(g >> 2) << 5 | (guint)(b >> 3);
        row[2 * x] = (guint8)v, row[2 * x + 1] = (guint8)(v >> 8);
        break;
      }
      case HW_PIXEL_GRAY8:
        row[x] = (guint8)((r * 77 + g * 150 + b * 29) >> 8);
        break;
      default:
        break;
      }
    }
  }
}

static guint8 *
encode_png(const guint8 *rgba, guint w, guint h, gsize *len)
{
  png_image img = { .version = PNG_IMAGE_VERSION, .width = w, .height = h,
                    .format = PNG_FORMAT_RGBA };
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&img, NULL, &size, 0, rgba, 0, NULL))
    return NULL;
  guint8 *out = g_malloc(size);
  if (!png_image_write_to_memory(&img, out, &size, 0, rgba, 0, NULL)) {
    g_free(out);
    return NULL;
  }
  *len = size;
  return out;
}

static guint8 *
encode_jpeg(const guint8 *rgba, guint w, guint h, gsize *len)
{
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr jerr;
  unsigned char *mem = NULL;
  unsigned long size = 0;
  c.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&c);
  jpeg_mem_dest(&c, &mem, &size);
  c.image_width = w, c.image_height = h, c.input_components = 4;
  c.in_color_space = JCS_EXT_RGBA;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 85, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < h) {
    JSAMPROW row = (JSAMPROW)(rgba + (gsize)c.next_scanline * w * 4);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  guint8 *out = g_memdup2(mem, size);
  free(mem);
  *len = size;
  return out;
}

static int
gif_write(GifFileType *gif, const GifByteType *data, int n)
{
  g_byte_array_append(gif->UserData, data, (guint)n);
  return n;
}

static guint8 *
encode_gif(const guint8 *rgba, guint w, guint h, gsize *len)
{
  gsize n = (gsize)w * h;
  g_autofree GifByteType *r = g_malloc(n), *g = g_malloc(n), *b = g_malloc(n), *idx = g_malloc(n);
  for (gsize i = 0; i < n; i++)
    r[i] = rgba[4 * i], g[i] = rgba[4 * i + 1], b[i] = rgba[4 * i + 2];
  int colors = 256, error = 0;
  GifColorType palette[256];
  if (GifQuantizeBuffer(w, h, &colors, r, g, b, idx, palette) != GIF_OK)
    return NULL;
  GByteArray *buf = g_byte_array_new();
  GifFileType *gif = EGifOpen(buf, gif_write, &error);
  ColorMapObject *map = GifMakeMapObject(256, palette);
  gboolean ok = gif && map && EGifPutScreenDesc(gif, (int)w, (int)h, 8, 0, map) == GIF_OK &&
                EGifPutImageDesc(gif, 0, 0, (int)w, (int)h, false, NULL) == GIF_OK;
  for (guint y = 0; ok && y < h; y++)
    ok = EGifPutLine(gif, idx + (gsize)y * w, (int)w) == GIF_OK;
  if (gif && EGifCloseFile(gif, &error) != GIF_OK)
    ok = FALSE;
  GifFreeMapObject(map);
  *len = buf->len;
  guint8 *out = g_byte_array_free(buf, FALSE);
  if (!ok) {
    g_free(out);
    return NULL;
  }
  return out;
}

static void
put_le(guint8 *p, guint32 v, guint n)
{
  for (guint i = 0; i < n; i++)
    p[i] = (guint8)(v >> (8 * i));
}

static guint8 *
encode_bmp(const guint8 *rgba, guint w, guint h, gsize *len)
{
  gsize stride = ((gsize)w * 3 + 3) & ~(gsize)3, size = 54 + stride * h;
  guint8 *out = g_malloc0(size);
  out[0] = 'B', out[1] = 'M';
  put_le(out + 2, (guint32)size, 4);
  put_le(out + 10, 54, 4);
  put_le(out + 14, 40, 4);
  put_le(out + 18, w, 4);
  put_le(out + 22, h, 4);
  put_le(out + 26, 1, 2);
  put_le(out + 28, 24, 2);
  put_le(out + 34, (guint32)(stride * h), 4);
  for (guint y = 0; y < h; y++)   /* bottom-up rows, BGR */
    for (guint x = 0; x < w; x++) {
      const guint8 *s = rgba + ((gsize)(h - 1 - y) * w + x) * 4;
      guint8 *d = out + 54 + (gsize)y * stride + 3 * x;
      d[0] = s[2], d[1] = s[1], d[2] = s[0];
    }
  *len = size;
  return out;
}

static guint8 *
encode_webp(const guint8 *rgba, guint w, guint h, gsize *len)
{
  guint8 *mem = NULL;
  size_t size = WebPEncodeRGBA(rgba, (int)w, (int)h, (int)w * 4, 80, &mem);
  if (size == 0)
    return NULL;
  guint8 *out = g_memdup2(mem, size);
  WebPFree(mem);
  *len = size;
  return out;
}

guint8 *
picture_encode(guint enc, const guint8 *rgba, guint w, guint h, gsize *len)
{
  switch (enc) {
  case 0:
    return encode_png(rgba, w, h, len);
  case 1:
    return encode_jpeg(rgba, w, h, len);
  case 2:
    return encode_gif(rgba, w, h, len);
  case 3:
    return encode_bmp(rgba, w, h, len);
  case 4:
    return encode_webp(rgba, w, h, len);
  default:
    return NULL;
  }
}
