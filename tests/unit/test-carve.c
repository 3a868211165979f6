/* The carver and the renderer: raw pixel rows of every format to RGBA, image bytes read
 * back through a reader and written to files, memory read page by page and drawn with
 * its unreadable pages hatched; and tables of hostile layouts, sizes and readers. */
#include <haywire/haywire.h>
#include "../common/read-png.h"

#include <string.h>
#include <glib/gstdio.h>

/* ---- a reader over a buffer --------------------------------------------------------- */

/* SIZE bytes of DATA at addresses BASE..; reads touching [FAIL_LO, FAIL_HI) fail, as do
 * reads outside the buffer. */
typedef struct {
  const guint8 *data;
  guint64 base;
  gsize size;
  guint64 fail_lo, fail_hi;
  guint reads;
} Mem;

static gboolean
mem_read(gpointer ctx, guint64 addr, void *buf, gsize len)
{
  Mem *m = ctx;
  m->reads++;
  if (addr < m->base || addr - m->base > m->size || len > m->size - (addr - m->base))
    return FALSE;
  if (len > 0 && addr < m->fail_hi && addr + len > m->fail_lo)
    return FALSE;
  memcpy(buf, m->data + (addr - m->base), len);
  return TRUE;
}

static HwReader
mem_reader(Mem *m)
{
  return (HwReader){ .read = mem_read, .ctx = m };
}

/* ---- pixels to RGBA ------------------------------------------------------------------- */

/* Two rows of each format, 3 bytes of padding (0xee) after each: the rows' pixels as
 * RGBA. */
typedef struct {
  HwPixelFormat format;
  guint32 width;
  guint8 row[2][8];     /* the first row_bytes of each are used */
  guint8 rgba[2][3][4];
} PixelCase;

static const PixelCase pixel_cases[] = {
  { HW_PIXEL_RGB888, 2, { { 10, 20, 30, 40, 50, 60 }, { 1, 2, 3, 4, 5, 6 } },
    { { { 10, 20, 30, 255 }, { 40, 50, 60, 255 } }, { { 1, 2, 3, 255 }, { 4, 5, 6, 255 } } } },
  { HW_PIXEL_BGR888, 2, { { 10, 20, 30, 40, 50, 60 }, { 1, 2, 3, 4, 5, 6 } },
    { { { 30, 20, 10, 255 }, { 60, 50, 40, 255 } }, { { 3, 2, 1, 255 }, { 6, 5, 4, 255 } } } },
  { HW_PIXEL_RGBA8888, 2, { { 1, 2, 3, 4, 5, 6, 7, 8 }, { 9, 10, 11, 0, 13, 14, 15, 16 } },
    { { { 1, 2, 3, 4 }, { 5, 6, 7, 8 } }, { { 9, 10, 11, 0 }, { 13, 14, 15, 16 } } } },
  { HW_PIXEL_BGRA8888, 2, { { 1, 2, 3, 4, 5, 6, 7, 8 }, { 9, 10, 11, 0, 13, 14, 15, 16 } },
    { { { 3, 2, 1, 4 }, { 7, 6, 5, 8 } }, { { 11, 10, 9, 0 }, { 15, 14, 13, 16 } } } },
  { HW_PIXEL_XRGB8888, 2, { { 1, 2, 3, 4, 5, 6, 7, 8 }, { 9, 10, 11, 0, 13, 14, 15, 16 } },
    { { { 3, 2, 1, 255 }, { 7, 6, 5, 255 } }, { { 11, 10, 9, 255 }, { 15, 14, 13, 255 } } } },
  /* Little-endian 0xf800 (red), 0x07e0 (green); 0x001f (blue), 0xffff (white). */
  { HW_PIXEL_RGB565, 2, { { 0x00, 0xf8, 0xe0, 0x07 }, { 0x1f, 0x00, 0xff, 0xff } },
    { { { 255, 0, 0, 255 }, { 0, 255, 0, 255 } },
      { { 0, 0, 255, 255 }, { 255, 255, 255, 255 } } } },
  { HW_PIXEL_GRAY8, 2, { { 7, 200 }, { 0, 255 } },
    { { { 7, 7, 7, 255 }, { 200, 200, 200, 255 } },
      { { 0, 0, 0, 255 }, { 255, 255, 255, 255 } } } },
  /* 3 pixels in one byte per row, most significant bit first; the low bits are unused. */
  { HW_PIXEL_MONO1, 3, { { 0xa1 }, { 0x5f } },
    { { { 255, 255, 255, 255 }, { 0, 0, 0, 255 }, { 255, 255, 255, 255 } },
      { { 0, 0, 0, 255 }, { 255, 255, 255, 255 }, { 0, 0, 0, 255 } } } },
};

#define PAD 3

/* The two rows of C laid out with PAD bytes of 0xee after each; *STRIDE, *LEN. */
static guint8 *
pixel_rows(const PixelCase *c, guint64 *stride, gsize *len)
{
  guint64 row = hw_carve_row_bytes(c->format, c->width);
  *stride = row + PAD;
  *len = (gsize)(2 * *stride);
  guint8 *buf = g_malloc(*len);
  memset(buf, 0xee, *len);
  for (guint y = 0; y < 2; y++)
    memcpy(buf + y * *stride, c->row[y], (gsize)row);
  return buf;
}

static void
assert_case_rgba(const PixelCase *c, const guint8 *rgba)
{
  for (guint y = 0; y < 2; y++)
    for (guint x = 0; x < c->width; x++)
      g_assert_cmpmem(rgba + (y * c->width + x) * 4, 4, c->rgba[y][x], 4);
}

static void
test_pixels_formats(void)
{
  g_assert_cmpuint(G_N_ELEMENTS(pixel_cases), ==, HW_PIXEL_N_FORMATS);
  for (gsize i = 0; i < G_N_ELEMENTS(pixel_cases); i++) {
    const PixelCase *c = &pixel_cases[i];
    g_autoptr(GError) error = NULL;
    guint64 stride, span;
    gsize len;
    g_test_message("format %s", hw_pixel_format_name(c->format));
    g_autofree guint8 *rows = pixel_rows(c, &stride, &len);
    g_assert_true(hw_carve_pixels_check(c->format, c->width, 2, stride, &span, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(span, ==, len - PAD);   /* the last row's padding is not needed */
    /* Exactly the span is enough. */
    g_autofree guint8 *rgba = hw_carve_pixels_to_rgba(c->format, c->width, 2, stride, rows,
                                                      (gsize)span, &error);
    g_assert_no_error(error);
    g_assert_nonnull(rgba);
    assert_case_rgba(c, rgba);
  }
}

static void
test_pixels_row_bytes(void)
{
  g_assert_cmpuint(hw_carve_row_bytes(HW_PIXEL_MONO1, 1), ==, 1);
  g_assert_cmpuint(hw_carve_row_bytes(HW_PIXEL_MONO1, 8), ==, 1);
  g_assert_cmpuint(hw_carve_row_bytes(HW_PIXEL_MONO1, 9), ==, 2);
  g_assert_cmpuint(hw_carve_row_bytes(HW_PIXEL_RGB888, 5), ==, 15);
  g_assert_cmpuint(hw_carve_row_bytes(HW_PIXEL_XRGB8888, G_MAXUINT32), ==, 4ull * G_MAXUINT32);
  g_assert_cmpuint(hw_carve_row_bytes(HW_PIXEL_N_FORMATS, 5), ==, 0);
  g_assert_cmpuint(hw_carve_row_bytes((HwPixelFormat)-1, 5), ==, 0);
}

/* Layouts that must be refused, each with its code; every one also with ERROR NULL. */
typedef struct {
  const char *name;
  HwPixelFormat format;
  guint32 width, height;
  guint64 stride;
  gint code;
} LayoutCase;

static const LayoutCase layout_cases[] = {
  { "zero-width", HW_PIXEL_GRAY8, 0, 4, 4, HW_ERROR_INVALID_ARGUMENT },
  { "zero-height", HW_PIXEL_GRAY8, 4, 0, 4, HW_ERROR_INVALID_ARGUMENT },
  { "zero-both", HW_PIXEL_GRAY8, 0, 0, 0, HW_ERROR_INVALID_ARGUMENT },
  { "bad-format", HW_PIXEL_N_FORMATS, 4, 4, 16, HW_ERROR_INVALID_ARGUMENT },
  { "negative-format", (HwPixelFormat)-1, 4, 4, 16, HW_ERROR_INVALID_ARGUMENT },
  { "stride-short", HW_PIXEL_RGB888, 4, 4, 11, HW_ERROR_INVALID_ARGUMENT },
  { "stride-zero", HW_PIXEL_GRAY8, 4, 4, 0, HW_ERROR_INVALID_ARGUMENT },
  { "mono1-stride-short", HW_PIXEL_MONO1, 9, 2, 1, HW_ERROR_INVALID_ARGUMENT },
  { "huge-sides", HW_PIXEL_RGBA8888, G_MAXUINT32, G_MAXUINT32, 4ull * G_MAXUINT32,
    HW_ERROR_LIMIT },
  { "too-many-pixels", HW_PIXEL_MONO1, 1u << 15, (1u << 13) + 1, 1u << 12, HW_ERROR_LIMIT },
  { "stride-times-height-overflows", HW_PIXEL_GRAY8, 1, 3, 1ull << 63, HW_ERROR_LIMIT },
  { "stride-max", HW_PIXEL_GRAY8, 1, 2, G_MAXUINT64, HW_ERROR_LIMIT },
  { "span-over-limit", HW_PIXEL_GRAY8, 4096, 65536, 4097, HW_ERROR_LIMIT },
  { "one-row-over-limit", HW_PIXEL_RGBA8888, (1u << 26) + 1, 1, 4ull * ((1u << 26) + 1),
    HW_ERROR_LIMIT },
};

static void
test_pixels_bad_layout(gconstpointer data)
{
  const LayoutCase *c = data;
  guint8 buf[64] = { 0 };
  g_autoptr(GError) error = NULL, e2 = NULL;
  guint64 span = 12345;
  g_assert_false(hw_carve_pixels_check(c->format, c->width, c->height, c->stride, &span,
                                       &error));
  g_assert_error(error, HW_ERROR, c->code);
  g_assert_cmpuint(span, ==, 12345);
  g_assert_false(hw_carve_pixels_check(c->format, c->width, c->height, c->stride, NULL, NULL));
  g_assert_null(hw_carve_pixels_to_rgba(c->format, c->width, c->height, c->stride, buf,
                                        sizeof buf, &e2));
  g_assert_error(e2, HW_ERROR, c->code);
  g_assert_null(hw_carve_pixels_to_rgba(c->format, c->width, c->height, c->stride, buf,
                                        sizeof buf, NULL));
}

static void
test_pixels_short_data(void)
{
  guint8 buf[64] = { 0 };
  /* 4 rows of 4 gray pixels, 5 bytes apart: 19 bytes. */
  static const gsize lens[] = { 0, 1, 18 };
  for (gsize i = 0; i < G_N_ELEMENTS(lens); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_null(hw_carve_pixels_to_rgba(HW_PIXEL_GRAY8, 4, 4, 5, buf, lens[i], &error));
    g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
    g_assert_null(hw_carve_pixels_to_rgba(HW_PIXEL_GRAY8, 4, 4, 5, buf, lens[i], NULL));
  }
  g_autoptr(GError) error = NULL;
  g_assert_null(hw_carve_pixels_to_rgba(HW_PIXEL_GRAY8, 4, 4, 5, NULL, 64, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
  g_autofree guint8 *ok = hw_carve_pixels_to_rgba(HW_PIXEL_GRAY8, 4, 4, 5, buf, 19, NULL);
  g_assert_nonnull(ok);
}

/* ---- carving ---------------------------------------------------------------------------- */

static void
test_carve_extension(void)
{
  g_assert_cmpstr(hw_carve_extension(HW_IMAGE_PNG), ==, "png");
  g_assert_cmpstr(hw_carve_extension(HW_IMAGE_JPEG), ==, "jpg");
  g_assert_cmpstr(hw_carve_extension(HW_IMAGE_GIF), ==, "gif");
  g_assert_cmpstr(hw_carve_extension(HW_IMAGE_BMP), ==, "bmp");
  g_assert_cmpstr(hw_carve_extension(HW_IMAGE_RAW), ==, "png");
  g_assert_cmpstr(hw_carve_extension(HW_IMAGE_N_KINDS), ==, "bin");
  g_assert_cmpstr(hw_carve_extension((HwImageKind)-3), ==, "bin");
}

#define BASE 0x10000ull

static void
test_carve_read_encoded(void)
{
  guint8 ram[256];
  for (guint i = 0; i < sizeof ram; i++)
    ram[i] = (guint8)(i * 7);
  Mem m = { ram, BASE, sizeof ram, 0, 0, 0 };
  HwReader r = mem_reader(&m);
  HwImage im = { .kind = HW_IMAGE_GIF, .addr = BASE + 16, .size = 100 };
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  g_autofree guint8 *got = hw_carve_read(&r, &im, &len, &error);
  g_assert_no_error(error);
  g_assert_cmpmem(got, len, ram + 16, 100);
  /* To the last byte of the reader's space; LEN may be NULL. */
  im.addr = BASE + sizeof ram - 1;
  im.size = 1;
  g_autofree guint8 *last = hw_carve_read(&r, &im, NULL, NULL);
  g_assert_nonnull(last);
  g_assert_cmpuint(last[0], ==, ram[sizeof ram - 1]);
}

static void
test_carve_read_raw(void)
{
  const PixelCase *c = &pixel_cases[HW_PIXEL_RGB565];
  guint64 stride;
  gsize len;
  g_autofree guint8 *rows = pixel_rows(c, &stride, &len);
  /* The last row's padding lies outside the reader: the span is all that is read, and
   * the size the finder gave is not used. */
  Mem m = { rows, BASE, len - PAD, 0, 0, 0 };
  HwReader r = mem_reader(&m);
  HwImage im = { .kind = HW_IMAGE_RAW, .addr = BASE, .size = 99999, .width = c->width,
                 .height = 2, .stride = (guint32)stride, .format = c->format };
  g_autoptr(GError) error = NULL;
  gsize got_len;
  g_autofree guint8 *got = hw_carve_read(&r, &im, &got_len, &error);
  g_assert_no_error(error);
  g_assert_cmpmem(got, got_len, rows, len - PAD);
}

/* A budget is charged: spent, the read fails. */
static void
test_carve_read_budget(void)
{
  guint8 ram[64] = { 1 };
  Mem m = { ram, 0, sizeof ram, 0, 0, 0 };
  gint64 budget = 40;
  HwReader r = { .read = mem_read, .ctx = &m, .budget = &budget };
  HwImage im = { .kind = HW_IMAGE_PNG, .addr = 0, .size = 32 };
  g_autofree guint8 *first = hw_carve_read(&r, &im, NULL, NULL);
  g_assert_nonnull(first);
  g_autoptr(GError) error = NULL;
  g_assert_null(hw_carve_read(&r, &im, NULL, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_UNMAPPED);
}

typedef struct {
  const char *name;
  gboolean no_reader, no_read_fn;
  HwImage image;
  gint code;
  gboolean reads;          /* the reader is asked (and fails or succeeds) */
} ReadCase;

static const ReadCase read_cases[] = {
  { "no-reader", TRUE, FALSE, { .kind = HW_IMAGE_PNG, .addr = BASE, .size = 8 },
    HW_ERROR_INVALID_ARGUMENT, FALSE },
  { "no-read-function", FALSE, TRUE, { .kind = HW_IMAGE_PNG, .addr = BASE, .size = 8 },
    HW_ERROR_INVALID_ARGUMENT, FALSE },
  { "unknown-kind", FALSE, FALSE, { .kind = HW_IMAGE_N_KINDS, .addr = BASE, .size = 8 },
    HW_ERROR_INVALID_ARGUMENT, FALSE },
  { "negative-kind", FALSE, FALSE, { .kind = (HwImageKind)-1, .addr = BASE, .size = 8 },
    HW_ERROR_INVALID_ARGUMENT, FALSE },
  { "empty-file", FALSE, FALSE, { .kind = HW_IMAGE_JPEG, .addr = BASE, .size = 0 },
    HW_ERROR_INVALID_ARGUMENT, FALSE },
  { "file-over-limit", FALSE, FALSE,
    { .kind = HW_IMAGE_BMP, .addr = BASE, .size = HW_CARVE_MAX_BYTES + 1ull },
    HW_ERROR_LIMIT, FALSE },
  { "file-huge", FALSE, FALSE, { .kind = HW_IMAGE_BMP, .addr = BASE, .size = G_MAXUINT64 },
    HW_ERROR_LIMIT, FALSE },
  { "file-wraps", FALSE, FALSE,
    { .kind = HW_IMAGE_PNG, .addr = G_MAXUINT64 - 3, .size = 8 }, HW_ERROR_OUT_OF_RANGE, FALSE },
  { "file-unreadable", FALSE, FALSE, { .kind = HW_IMAGE_PNG, .addr = BASE + 100, .size = 8 },
    HW_ERROR_UNMAPPED, TRUE },
  { "file-runs-past-memory", FALSE, FALSE,
    { .kind = HW_IMAGE_PNG, .addr = BASE + 250, .size = 8 }, HW_ERROR_UNMAPPED, TRUE },
  { "file-below-memory", FALSE, FALSE, { .kind = HW_IMAGE_GIF, .addr = 0, .size = 8 },
    HW_ERROR_UNMAPPED, TRUE },
  { "raw-zero-width", FALSE, FALSE,
    { .kind = HW_IMAGE_RAW, .addr = BASE, .size = 64, .width = 0, .height = 4, .stride = 16,
      .format = HW_PIXEL_RGBA8888 }, HW_ERROR_INVALID_ARGUMENT, FALSE },
  { "raw-zero-height", FALSE, FALSE,
    { .kind = HW_IMAGE_RAW, .addr = BASE, .size = 64, .width = 4, .height = 0, .stride = 16,
      .format = HW_PIXEL_RGBA8888 }, HW_ERROR_INVALID_ARGUMENT, FALSE },
  { "raw-stride-short", FALSE, FALSE,
    { .kind = HW_IMAGE_RAW, .addr = BASE, .size = 64, .width = 4, .height = 4, .stride = 15,
      .format = HW_PIXEL_RGBA8888 }, HW_ERROR_INVALID_ARGUMENT, FALSE },
  { "raw-bad-format", FALSE, FALSE,
    { .kind = HW_IMAGE_RAW, .addr = BASE, .size = 64, .width = 4, .height = 4, .stride = 16,
      .format = (HwPixelFormat)99 }, HW_ERROR_INVALID_ARGUMENT, FALSE },
  { "raw-huge", FALSE, FALSE,
    { .kind = HW_IMAGE_RAW, .addr = BASE, .size = 64, .width = 65535, .height = 65535,
      .stride = 4 * 65535, .format = HW_PIXEL_RGBA8888 }, HW_ERROR_LIMIT, FALSE },
  { "raw-span-over-limit", FALSE, FALSE,
    { .kind = HW_IMAGE_RAW, .addr = BASE, .size = 64, .width = 1, .height = 70000,
      .stride = G_MAXUINT32, .format = HW_PIXEL_GRAY8 }, HW_ERROR_LIMIT, FALSE },
  { "raw-wraps", FALSE, FALSE,
    { .kind = HW_IMAGE_RAW, .addr = G_MAXUINT64 - 10, .size = 64, .width = 4, .height = 4,
      .stride = 4, .format = HW_PIXEL_GRAY8 }, HW_ERROR_OUT_OF_RANGE, FALSE },
  { "raw-unreadable", FALSE, FALSE,
    { .kind = HW_IMAGE_RAW, .addr = BASE + 64, .size = 64, .width = 4, .height = 4,
      .stride = 16, .format = HW_PIXEL_RGBA8888 }, HW_ERROR_UNMAPPED, TRUE },
};

static void
test_carve_read_bad(gconstpointer data)
{
  const ReadCase *c = data;
  guint8 ram[256] = { 0 };
  /* [BASE + 100, BASE + 110) fails, as does all outside [BASE, BASE + 256). */
  Mem m = { ram, BASE, sizeof ram, BASE + 100, BASE + 110, 0 };
  HwReader r = mem_reader(&m);
  if (c->no_read_fn)
    r.read = NULL;
  const HwReader *rp = c->no_reader ? NULL : &r;
  g_autoptr(GError) error = NULL;
  gsize len = 777;
  g_assert_null(hw_carve_read(rp, &c->image, &len, &error));
  g_assert_error(error, HW_ERROR, c->code);
  g_assert_cmpuint(len, ==, 777);
  g_assert_cmpuint(m.reads > 0, ==, c->reads);
  g_assert_null(hw_carve_read(rp, &c->image, NULL, NULL));

  /* Writing fails the same way, and leaves no file. */
  g_autofree char *dir = g_dir_make_tmp("hw-carve-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "x", NULL);
  g_autoptr(GError) e2 = NULL;
  g_assert_false(hw_carve_write(rp, &c->image, path, &e2));
  g_assert_error(e2, HW_ERROR, c->code);
  g_assert_false(hw_carve_write(rp, &c->image, path, NULL));
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  g_rmdir(dir);
}

static void
test_carve_read_no_image(void)
{
  guint8 ram[16] = { 0 };
  Mem m = { ram, 0, sizeof ram, 0, 0, 0 };
  HwReader r = mem_reader(&m);
  g_autoptr(GError) error = NULL;
  g_assert_null(hw_carve_read(&r, NULL, NULL, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
  g_assert_null(hw_carve_read(&r, NULL, NULL, NULL));
  HwImage im = { .kind = HW_IMAGE_PNG, .addr = 0, .size = 8 };
  g_autoptr(GError) e2 = NULL;
  g_assert_false(hw_carve_write(&r, &im, NULL, &e2));
  g_assert_error(e2, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
  g_assert_false(hw_carve_write(&r, NULL, "/nonexistent/x", NULL));
}

static void
test_carve_write(void)
{
  g_autofree char *dir = g_dir_make_tmp("hw-carve-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;

  /* An encoded file: its bytes, exactly. */
  guint8 ram[64];
  for (guint i = 0; i < sizeof ram; i++)
    ram[i] = (guint8)(255 - i);
  Mem m = { ram, BASE, sizeof ram, 0, 0, 0 };
  HwReader r = mem_reader(&m);
  HwImage im = { .kind = HW_IMAGE_JPEG, .addr = BASE + 4, .size = 50 };
  g_autofree char *jpg = g_build_filename(dir, "a.jpg", NULL);
  g_assert_true(hw_carve_write(&r, &im, jpg, &error));
  g_assert_no_error(error);
  g_autofree char *bytes = NULL;
  gsize n;
  g_assert_true(g_file_get_contents(jpg, &bytes, &n, NULL));
  g_assert_cmpmem(bytes, n, ram + 4, 50);
  g_unlink(jpg);

  /* Raw pixels of every format: a PNG of their RGBA. */
  for (gsize i = 0; i < G_N_ELEMENTS(pixel_cases); i++) {
    const PixelCase *c = &pixel_cases[i];
    guint64 stride;
    gsize len;
    g_autofree guint8 *rows = pixel_rows(c, &stride, &len);
    Mem pm = { rows, BASE, len, 0, 0, 0 };
    HwReader pr = mem_reader(&pm);
    HwImage raw = { .kind = HW_IMAGE_RAW, .addr = BASE, .size = len, .width = c->width,
                    .height = 2, .stride = (guint32)stride, .format = c->format };
    g_autofree char *png = g_build_filename(dir, "raw.png", NULL);
    g_assert_true(hw_carve_write(&pr, &raw, png, &error));
    g_assert_no_error(error);
    guint w, h;
    g_autofree guint8 *px = hw_test_read_png(png, &w, &h);
    g_assert_cmpuint(w, ==, c->width);
    g_assert_cmpuint(h, ==, 2);
    assert_case_rgba(c, px);
    g_unlink(png);
  }

  /* An unwritable path: the file's error. */
  g_autoptr(GError) e2 = NULL;
  g_assert_false(hw_carve_write(&r, &im, "/nonexistent-dir/a.jpg", &e2));
  g_assert_error(e2, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_rmdir(dir);
}

/* ---- rendering -------------------------------------------------------------------------- */

static void
test_render_memory_pages(void)
{
  /* 3 pages and a bit from 0x1800; [0x2000, 0x3000) fails. */
  gsize size = 0x4000;
  g_autofree guint8 *ram = g_malloc(size);
  for (gsize i = 0; i < size; i++)
    ram[i] = (guint8)(i + 1);
  Mem m = { ram, 0, size, 0x2000, 0x3000, 0 };
  HwReader r = mem_reader(&m);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwRenderMemory) mem = hw_render_memory_read(&r, 0x1800, 0x2000, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(m.reads, ==, 3);   /* 0x1800-0x1fff, 0x2000-0x2fff, 0x3000-0x37ff */
  g_assert_cmpuint(hw_render_memory_get_unreadable(mem), ==, 0x1000);
  gsize len;
  const guint8 *d = hw_render_memory_get_data(mem, &len);
  g_assert_cmpuint(len, ==, 0x2000);
  g_assert_cmpmem(d, 0x800, ram + 0x1800, 0x800);
  for (gsize i = 0x800; i < 0x1800; i++)
    g_assert_cmpuint(d[i], ==, 0);
  g_assert_cmpmem(d + 0x1800, 0x800, ram + 0x3000, 0x800);
  g_assert_true(hw_render_memory_readable(mem, 0x1800));
  g_assert_true(hw_render_memory_readable(mem, 0x1fff));
  g_assert_false(hw_render_memory_readable(mem, 0x2000));
  g_assert_false(hw_render_memory_readable(mem, 0x2fff));
  g_assert_true(hw_render_memory_readable(mem, 0x3000));
  g_assert_true(hw_render_memory_readable(mem, 0x37ff));
  /* Outside: not read. */
  g_assert_false(hw_render_memory_readable(mem, 0x17ff));
  g_assert_false(hw_render_memory_readable(mem, 0x3800));
  g_assert_false(hw_render_memory_readable(mem, G_MAXUINT64));
  g_assert_false(hw_render_memory_readable(NULL, 0x1800));
  g_assert_cmpuint(hw_render_memory_get_unreadable(NULL), ==, 0);
  g_assert_null(hw_render_memory_get_data(NULL, &len));
  g_assert_cmpuint(len, ==, 0);
  hw_render_memory_free(NULL);
}

/* The very top of the address space: the last page ends at 2^64. */
static guint8 top_bytes[0x20];

static gboolean
top_read(gpointer ctx, guint64 addr, void *buf, gsize len)
{
  guint64 lo = G_MAXUINT64 - sizeof top_bytes + 1;
  if (addr < lo || len > sizeof top_bytes || addr - lo > sizeof top_bytes - len)
    return FALSE;
  memcpy(buf, top_bytes + (addr - lo), len);
  return TRUE;
}

static void
test_render_memory_top(void)
{
  for (guint i = 0; i < sizeof top_bytes; i++)
    top_bytes[i] = (guint8)(0x80 + i);
  HwReader r = { .read = top_read };
  g_autoptr(GError) error = NULL;
  guint64 addr = G_MAXUINT64 - sizeof top_bytes + 1;
  g_autoptr(HwRenderMemory) mem = hw_render_memory_read(&r, addr, sizeof top_bytes, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(hw_render_memory_get_unreadable(mem), ==, 0);
  g_assert_true(hw_render_memory_readable(mem, G_MAXUINT64));
  g_assert_cmpmem(hw_render_memory_get_data(mem, NULL), sizeof top_bytes, top_bytes,
                  sizeof top_bytes);
  /* One byte more wraps around. */
  g_autoptr(GError) e2 = NULL;
  g_assert_null(hw_render_memory_read(&r, addr, sizeof top_bytes + 1, &e2));
  g_assert_error(e2, HW_ERROR, HW_ERROR_OUT_OF_RANGE);
}

static void
test_render_memory_bad(void)
{
  guint8 ram[16] = { 0 };
  Mem m = { ram, 0, sizeof ram, 0, 0, 0 };
  HwReader r = mem_reader(&m), no_fn = { 0 };
  const struct {
    const HwReader *r;
    guint64 addr, len;
    gint code;
  } cases[] = {
    { NULL, 0, 16, HW_ERROR_INVALID_ARGUMENT },
    { &no_fn, 0, 16, HW_ERROR_INVALID_ARGUMENT },
    { &r, 0, 0, HW_ERROR_INVALID_ARGUMENT },
    { &r, 0, HW_CARVE_MAX_BYTES + 1ull, HW_ERROR_LIMIT },
    { &r, 0, G_MAXUINT64, HW_ERROR_LIMIT },
    { &r, G_MAXUINT64, 2, HW_ERROR_OUT_OF_RANGE },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_test_message("case %" G_GSIZE_FORMAT, i);
    g_assert_null(hw_render_memory_read(cases[i].r, cases[i].addr, cases[i].len, &error));
    g_assert_error(error, HW_ERROR, cases[i].code);
    g_assert_null(hw_render_memory_read(cases[i].r, cases[i].addr, cases[i].len, NULL));
  }
  g_assert_cmpuint(m.reads, ==, 0);
  /* All unreadable is a picture, not an error. */
  g_autoptr(HwRenderMemory) none = hw_render_memory_read(&r, 0x100000, 0x3000, NULL);
  g_assert_nonnull(none);
  g_assert_cmpuint(hw_render_memory_get_unreadable(none), ==, 0x3000);
}

static void
expect_hatch(const guint8 *px, guint x, guint y)
{
  gboolean stripe = ((x + y) / 4) % 2 == 0;
  guint8 want[4] = { stripe ? 0x60 : 0x30, stripe ? 0x20 : 0x18, stripe ? 0x40 : 0x28, 255 };
  g_assert_cmpmem(px, 4, want, 4);
}

/* 64 rgba8888 pixels a row (256 bytes), 32 rows from 0x1000: rows 16..31 are the failing
 * page [0x2000, 0x3000); drawn at scale 1 and 3, alpha kept or not. */
static void
test_render_draw(void)
{
  gsize size = 0x4000;
  g_autofree guint8 *ram = g_malloc(size);
  for (gsize i = 0; i < size; i++)
    ram[i] = (guint8)(i * 13 + 5);
  Mem m = { ram, 0, size, 0x2000, 0x3000, 0 };
  HwReader r = mem_reader(&m);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwRenderMemory) mem = hw_render_memory_read(&r, 0x1000, 0x2000, &error);
  g_assert_no_error(error);
  for (guint keep = 0; keep < 2; keep++)
    for (guint scale = 1; scale <= 3; scale += 2) {
      HwRenderLayout l = { HW_PIXEL_RGBA8888, 64, 32, 256, scale, keep };
      guint32 w = 0, h = 0;
      g_autofree guint8 *px = hw_render_draw(mem, &l, &w, &h, &error);
      g_assert_no_error(error);
      g_assert_cmpuint(w, ==, 64 * scale);
      g_assert_cmpuint(h, ==, 32 * scale);
      for (guint y = 0; y < h; y++)
        for (guint x = 0; x < w; x++) {
          const guint8 *p = px + ((gsize)y * w + x) * 4;
          guint sx = x / scale, sy = y / scale;
          if (sy >= 16) {   /* from 0x2000 on */
            expect_hatch(p, sx, sy);
            continue;
          }
          const guint8 *src = ram + 0x1000 + sy * 256 + sx * 4;
          guint8 want[4] = { src[0], src[1], src[2], keep ? src[3] : 255 };
          g_assert_cmpmem(p, 4, want, 4);
        }
    }
  /* A 1-bit picture: 8 pixels share a byte, and its readability. */
  HwRenderLayout mono = { HW_PIXEL_MONO1, 64, 32, 256, 1, FALSE };
  g_autofree guint8 *bw = hw_render_draw(mem, &mono, NULL, NULL, &error);
  g_assert_no_error(error);
  expect_hatch(bw + (16 * 64 + 7) * 4, 7, 16);
  g_assert_cmpuint(bw[(15 * 64 + 7) * 4 + 3], ==, 255);
}

static void
test_render_draw_bad(void)
{
  guint8 ram[64] = { 0 };
  Mem m = { ram, 0, sizeof ram, 0, 0, 0 };
  HwReader r = mem_reader(&m);
  g_autoptr(HwRenderMemory) mem = hw_render_memory_read(&r, 0, sizeof ram, NULL);
  g_assert_nonnull(mem);
  const struct {
    gboolean no_memory;
    HwRenderLayout l;
    gint code;
  } cases[] = {
    { TRUE, { HW_PIXEL_GRAY8, 8, 8, 8, 1, FALSE }, HW_ERROR_INVALID_ARGUMENT },
    { FALSE, { HW_PIXEL_GRAY8, 8, 8, 8, 0, FALSE }, HW_ERROR_INVALID_ARGUMENT },
    { FALSE, { HW_PIXEL_GRAY8, 8, 8, 8, HW_RENDER_MAX_SCALE + 1, FALSE },
      HW_ERROR_INVALID_ARGUMENT },
    { FALSE, { HW_PIXEL_GRAY8, 0, 8, 8, 1, FALSE }, HW_ERROR_INVALID_ARGUMENT },
    { FALSE, { HW_PIXEL_GRAY8, 8, 0, 8, 1, FALSE }, HW_ERROR_INVALID_ARGUMENT },
    { FALSE, { HW_PIXEL_GRAY8, 8, 8, 7, 1, FALSE }, HW_ERROR_INVALID_ARGUMENT },
    { FALSE, { (HwPixelFormat)42, 8, 8, 8, 1, FALSE }, HW_ERROR_INVALID_ARGUMENT },
    { FALSE, { HW_PIXEL_GRAY8, 8, 9, 8, 1, FALSE }, HW_ERROR_INVALID_ARGUMENT },   /* 72 > 64 */
    { FALSE, { HW_PIXEL_GRAY8, 1, 2, G_MAXUINT64, 1, FALSE }, HW_ERROR_LIMIT },
    { FALSE, { HW_PIXEL_GRAY8, 2048, 1, 2048, 16, FALSE }, HW_ERROR_LIMIT },   /* side 32768 */
    { FALSE, { HW_PIXEL_GRAY8, 1, 16385, 1, 1, FALSE }, HW_ERROR_LIMIT },   /* side 16385 */
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    guint32 w = 5, h = 6;
    g_test_message("case %" G_GSIZE_FORMAT, i);
    const HwRenderMemory *mp = cases[i].no_memory ? NULL : mem;
    g_assert_null(hw_render_draw(mp, &cases[i].l, &w, &h, &error));
    g_assert_error(error, HW_ERROR, cases[i].code);
    g_assert_cmpuint(w, ==, 5);
    g_assert_cmpuint(h, ==, 6);
    g_assert_null(hw_render_draw(mp, &cases[i].l, NULL, NULL, NULL));
  }
  g_autoptr(GError) error = NULL;
  g_assert_null(hw_render_draw(mem, NULL, NULL, NULL, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/output/carve/pixels/formats", test_pixels_formats);
  g_test_add_func("/output/carve/pixels/row-bytes", test_pixels_row_bytes);
  for (gsize i = 0; i < G_N_ELEMENTS(layout_cases); i++) {
    g_autofree char *path = g_strdup_printf("/output/carve/pixels/bad/%s", layout_cases[i].name);
    g_test_add_data_func(path, &layout_cases[i], test_pixels_bad_layout);
  }
  g_test_add_func("/output/carve/pixels/short-data", test_pixels_short_data);
  g_test_add_func("/output/carve/extension", test_carve_extension);
  g_test_add_func("/output/carve/read/encoded", test_carve_read_encoded);
  g_test_add_func("/output/carve/read/raw", test_carve_read_raw);
  g_test_add_func("/output/carve/read/budget", test_carve_read_budget);
  g_test_add_func("/output/carve/read/no-image", test_carve_read_no_image);
  for (gsize i = 0; i < G_N_ELEMENTS(read_cases); i++) {
    g_autofree char *path = g_strdup_printf("/output/carve/read/bad/%s", read_cases[i].name);
    g_test_add_data_func(path, &read_cases[i], test_carve_read_bad);
  }
  g_test_add_func("/output/carve/write", test_carve_write);
  g_test_add_func("/output/render/memory/pages", test_render_memory_pages);
  g_test_add_func("/output/render/memory/top", test_render_memory_top);
  g_test_add_func("/output/render/memory/bad", test_render_memory_bad);
  g_test_add_func("/output/render/draw", test_render_draw);
  g_test_add_func("/output/render/draw/bad", test_render_draw_bad);
  return g_test_run();
}
