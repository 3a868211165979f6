/* PNG and JPEG checks on the test guest's real files, raw pixel detection on synthetic
 * pictures and on things that are not pictures, and image scans over synthetic RAM
 * (physical, across chunk ends; per process, across scattered pages). */
#include <haywire/haywire.h>
#include "../../guest/hwtest-pixels.h"

#include <string.h>
#include "buf-reader.h"

#define IMAGES HW_TEST_DATA "/../../guest/images/"


static guint8 *
load(const char *name, gsize *len)
{
  g_autofree char *path = g_strconcat(IMAGES, name, NULL);
  g_autoptr(GError) error = NULL;
  char *data = NULL;
  g_assert_true(g_file_get_contents(path, &data, len, &error));
  g_assert_no_error(error);
  return (guint8 *)data;
}

/* FILE placed at offset 100 of a zeroed buffer, page padded, through CHECK. */
static gboolean
check_at(const guint8 *file, gsize len, gboolean (*check)(const HwReader *, guint64, HwImage *),
         HwImage *out)
{
  gsize total = (100 + len + 3 * 4096) & ~(gsize)4095;
  g_autofree guint8 *mem = g_malloc0(total);
  memcpy(mem + 100, file, len);
  Buf b = { mem, total };
  HwReader r = { buf_read, &b, NULL };
  return check(&r, 100, out);
}

static void
test_png_valid(void)
{
  gsize len;
  g_autofree guint8 *png = load("photo.png", &len);
  HwImage im;
  g_assert_true(check_at(png, len, hw_image_check_png, &im));
  g_assert_cmpint(im.kind, ==, HW_IMAGE_PNG);
  g_assert_cmpuint(im.addr, ==, 100);
  g_assert_cmpuint(im.size, ==, len);
  g_assert_cmpuint(im.width, ==, 128);
  g_assert_cmpuint(im.height, ==, 96);
  /* The same through the check by kind; another kind's check or raw pixels refuse it. */
  gsize total = (100 + len + 3 * 4096) & ~(gsize)4095;
  g_autofree guint8 *mem = g_malloc0(total);
  memcpy(mem + 100, png, len);
  Buf b = { mem, total };
  HwReader r = { buf_read, &b, NULL };
  HwImage by_kind;
  g_assert_true(hw_image_check(HW_IMAGE_PNG, &r, 100, &by_kind));
  g_assert_cmpuint(by_kind.size, ==, len);
  g_assert_false(hw_image_check(HW_IMAGE_JPEG, &r, 100, &by_kind));
  g_assert_false(hw_image_check(HW_IMAGE_RAW, &r, 100, &by_kind));
  g_assert_false(hw_image_check(HW_IMAGE_N_KINDS, &r, 100, &by_kind));
}

static void
test_png_corrupt(void)
{
  gsize len;
  g_autofree guint8 *png = load("photo.png", &len);
  HwImage im;
  /* One flipped bit anywhere in a chunk fails its CRC; every truncation fails. */
  const gsize flips[] = { 8 + 8, 40, len / 2, len - 9 };
  for (gsize i = 0; i < G_N_ELEMENTS(flips); i++) {
    g_autofree guint8 *bad = g_memdup2(png, len);
    bad[flips[i]] ^= 0x10;
    g_assert_false(check_at(bad, len, hw_image_check_png, &im));
  }
  const gsize cuts[] = { 4, 8, 20, len / 3, len - 1 };
  for (gsize i = 0; i < G_N_ELEMENTS(cuts); i++) {
    g_autofree guint8 *bad = g_memdup2(png, len);
    memset(bad + cuts[i], 0, len - cuts[i]);
    g_assert_false(check_at(bad, len, hw_image_check_png, &im));
  }
  /* A huge chunk length is refused without reading 2 GiB. */
  g_autofree guint8 *big = g_memdup2(png, len);
  big[33] = 0x7f;
  g_assert_false(check_at(big, len, hw_image_check_png, &im));
}

static void
test_jpeg_valid(void)
{
  gsize len;
  g_autofree guint8 *jpg = load("photo.jpg", &len);
  HwImage im;
  g_assert_true(check_at(jpg, len, hw_image_check_jpeg, &im));
  g_assert_cmpint(im.kind, ==, HW_IMAGE_JPEG);
  g_assert_cmpuint(im.size, ==, len);
  g_assert_cmpuint(im.width, ==, 240);
  g_assert_cmpuint(im.height, ==, 180);
}

static void
test_jpeg_corrupt(void)
{
  gsize len;
  g_autofree guint8 *jpg = load("photo.jpg", &len);
  HwImage im;
  /* Truncated (no EOI), a broken marker, a frame header with zero width. */
  g_autofree guint8 *cut = g_memdup2(jpg, len);
  memset(cut + len - 200, 0, 200);
  g_assert_false(check_at(cut, len, hw_image_check_jpeg, &im));
  g_autofree guint8 *marker = g_memdup2(jpg, len);
  marker[3] = 0x01;   /* APP0 -> TEM: not a segment marker */
  g_assert_false(check_at(marker, len, hw_image_check_jpeg, &im));
  g_autofree guint8 *sof = g_memdup2(jpg, len);
  guint8 *p = memmem(sof, len, "\xff\xc0", 2);
  g_assert_nonnull(p);
  p[7] = p[8] = 0;
  g_assert_false(check_at(sof, len, hw_image_check_jpeg, &im));
  static const guint8 lone[] = { 0xff, 0xd8, 0xff, 0xd9 };
  g_assert_false(check_at(lone, sizeof lone, hw_image_check_jpeg, &im));

  /* Torn: a page of zeros (a page the file does not own) inside the entropy-coded
   * data. check_at puts the file at offset 100, so file offset 8192 - 100 starts a page.
   * Zeros are valid scan bytes, so only the zero-page rule rejects it. */
  gsize at = 8192 - 100;
  g_assert_nonnull(memmem(jpg, at, "\xff\xda", 2));   /* the scan began before it */
  g_autofree guint8 *torn = g_malloc(len + 4096);
  memcpy(torn, jpg, at);
  memset(torn + at, 0, 4096);
  memcpy(torn + at + 4096, jpg + at, len - at);
  g_assert_false(check_at(torn, len + 4096, hw_image_check_jpeg, &im));
  /* Fewer zeros than a page pass the structure (they may be real data), but these are
   * not this picture's data: the decoder refuses them. */
  g_autofree guint8 *some = g_malloc(len + 4000);
  memcpy(some, jpg, at);
  memset(some + at, 0, 4000);
  memcpy(some + at + 4000, jpg + at, len - at);
  g_assert_false(check_at(some, len + 4000, hw_image_check_jpeg, &im));
}

static void
test_gif_bmp_valid(void)
{
  gsize glen, blen;
  g_autofree guint8 *gif = load("icon.gif", &glen);
  g_autofree guint8 *bmp = load("logo.bmp", &blen);
  HwImage im;
  g_assert_true(check_at(gif, glen, hw_image_check_gif, &im));
  g_assert_cmpint(im.kind, ==, HW_IMAGE_GIF);
  g_assert_cmpuint(im.size, ==, glen);
  g_assert_cmpuint(im.width, ==, 64);
  g_assert_cmpuint(im.height, ==, 48);
  g_assert_true(check_at(bmp, blen, hw_image_check_bmp, &im));
  g_assert_cmpint(im.kind, ==, HW_IMAGE_BMP);
  g_assert_cmpuint(im.size, ==, blen);
  g_assert_cmpuint(im.width, ==, 40);
  g_assert_cmpuint(im.height, ==, 30);
  /* Top-down (negative height) is a valid BMP too. */
  g_autofree guint8 *down = g_memdup2(bmp, blen);
  gint32 h = -30;
  memcpy(down + 22, &h, 4);
  g_assert_true(check_at(down, blen, hw_image_check_bmp, &im));
  g_assert_cmpuint(im.height, ==, 30);
}

/* One field broken at a time: each variant is refused. */
static void
test_gif_bmp_corrupt(void)
{
  gsize glen, blen;
  g_autofree guint8 *gif = load("icon.gif", &glen);
  g_autofree guint8 *bmp = load("logo.bmp", &blen);
  static const struct {
    gsize at;
    guint8 value;
  } gif_bad[] = {
    { 4, '8' },        /* GIF88a */
    { 6, 0 },          /* zero width */
    { 10, 0x87 },      /* a global colour table of 768 bytes: blocks misread */
  }, bmp_bad[] = {
    { 14, 41 },        /* header size */
    { 26, 2 },         /* planes */
    { 28, 7 },         /* bits per pixel */
    { 30, 1 },         /* RLE8 with 24 bits per pixel */
    { 10, 0xff }, { 11, 0xff },   /* pixel offset beyond the file */
    { 2, 0x10 }, { 3, 0 },        /* file size too small for the pixels */
    { 5, 0x20 },       /* file size over 256 MiB */
    { 18, 0 },         /* width 0 */
  };
  for (gsize i = 0; i < G_N_ELEMENTS(gif_bad); i++) {
    g_autofree guint8 *bad = g_memdup2(gif, glen);
    bad[gif_bad[i].at] = gif_bad[i].value;
    HwImage im;
    g_assert_false(check_at(bad, glen, hw_image_check_gif, &im));
  }
  for (gsize i = 0; i < G_N_ELEMENTS(bmp_bad); i++) {
    g_autofree guint8 *bad = g_memdup2(bmp, blen);
    bad[bmp_bad[i].at] = bmp_bad[i].value;
    HwImage im;
    g_assert_false(check_at(bad, blen, hw_image_check_bmp, &im));
  }
  HwImage im;
  /* No trailer; an unknown block; no image at all. */
  g_autofree guint8 *cut = g_memdup2(gif, glen);
  cut[glen - 1] = 0;
  g_assert_false(check_at(cut, glen, hw_image_check_gif, &im));
  g_autofree guint8 *block = g_memdup2(gif, glen);
  guint8 *desc = memchr(block + 13 + 24, 0x2c, glen - 37);
  g_assert_nonnull(desc);
  *desc = 0x2d;
  g_assert_false(check_at(block, glen, hw_image_check_gif, &im));
  static const guint8 empty[] = { 'G', 'I', 'F', '8', '9', 'a', 4, 0, 4, 0, 0, 0, 0, 0x3b };
  g_assert_false(check_at(empty, sizeof empty, hw_image_check_gif, &im));
  /* A BMP whose last byte lies beyond readable memory. */
  g_autofree guint8 *bmp_cut = g_memdup2(bmp, blen);
  guint32 big = (guint32)blen + 3 * 4096 + 200;
  memcpy(bmp_cut + 2, &big, 4);
  g_assert_false(check_at(bmp_cut, blen, hw_image_check_bmp, &im));
}

/* Random mutations of real files never crash the checks, and a file they accept lies
 * within the buffer. */
static void
test_mutations(void)
{
  const char *names[] = { "photo.png", "photo.jpg", "icon.gif", "logo.bmp" };
  gboolean (*checks[])(const HwReader *, guint64, HwImage *) = {
    hw_image_check_png, hw_image_check_jpeg, hw_image_check_gif, hw_image_check_bmp };
  GRand *rand = g_rand_new_with_seed(7);
  for (gsize k = 0; k < G_N_ELEMENTS(names); k++) {
    gsize len;
    g_autofree guint8 *file = load(names[k], &len);
    for (int i = 0; i < 300; i++) {
      g_autofree guint8 *bad = g_memdup2(file, len);
      for (int j = 0; j < 4; j++)
        bad[g_rand_int_range(rand, 0, (gint32)MIN(len, 2000))] = (guint8)g_rand_int(rand);
      HwImage im;
      if (check_at(bad, len, checks[k], &im))
        g_assert_cmpuint(im.addr + im.size, <=, 100 + len + 3 * 4096);
    }
  }
  g_rand_free(rand);
}

/* --- raw pixels ---------------------------------------------------------------- */

#define RAM (16u << 20)

static HwPhysMem *
ram_new(guint8 **ram)
{
  const HwRamRange range = { 0, RAM, 0 };
  *ram = g_malloc0(RAM);
  return hw_physmem_new_from_data(*ram, RAM, &range, 1, NULL);
}

static GArray *
scan_raw(HwPhysMem *mem)
{
  g_autoptr(GError) error = NULL;
  GArray *hits = hw_scan_phys(mem, NULL, 1u << HW_IMAGE_RAW, 2, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  return hits;
}

static void
put_picture(guint8 *dst, HwPixelFormat f)
{
  guint bpp = hw_pixel_format_bits(f) / 8;
  for (int y = 0; y < HWTEST_RAW_H; y++)
    for (int x = 0; x < HWTEST_RAW_W; x++) {
      guint8 px[4];
      hwtest_raw_pixel(x, y, px);
      guint8 *d = dst + ((gsize)y * HWTEST_RAW_W + (gsize)x) * bpp;
      switch (f) {
      case HW_PIXEL_RGBA8888:
        memcpy(d, px, 4);
        break;
      case HW_PIXEL_XRGB8888:
        d[0] = px[2], d[1] = px[1], d[2] = px[0], d[3] = 0;
        break;
      case HW_PIXEL_RGB888:
        memcpy(d, px, 3);
        break;
      case HW_PIXEL_RGB565: {
        guint v = (guint)(px[0] >> 3) << 11 | (guint)(px[1] >> 2) << 5 | px[2] >> 3;
        d[0] = (guint8)v, d[1] = (guint8)(v >> 8);
        break;
      }
      default:
        g_assert_not_reached();
      }
    }
}

static void
test_raw_formats(void)
{
  const HwPixelFormat formats[] = { HW_PIXEL_RGBA8888, HW_PIXEL_XRGB8888, HW_PIXEL_RGB888,
                                    HW_PIXEL_RGB565 };
  for (gsize i = 0; i < G_N_ELEMENTS(formats); i++) {
    guint8 *ram;
    g_autoptr(HwPhysMem) mem = ram_new(&ram);
    /* Across the 8 MiB chunk boundary, starting mid-page. */
    const guint64 at = (8u << 20) - 5 * 4096 + 256;
    put_picture(ram + at, formats[i]);
    g_autoptr(GArray) hits = scan_raw(mem);
    g_test_message("%s: %u hits", hw_pixel_format_name(formats[i]), hits->len);
    for (guint k = 0; k < hits->len; k++)
      g_test_message("  at 0x%" G_GINT64_MODIFIER "x %ux%u %s conf %.2f", g_array_index(hits, HwScanHit, k).gpa, g_array_index(hits, HwScanHit, k).image.width, g_array_index(hits, HwScanHit, k).image.height, hw_pixel_format_name(g_array_index(hits, HwScanHit, k).image.format), g_array_index(hits, HwScanHit, k).image.confidence);
    g_assert_cmpuint(hits->len, ==, 1);
    const HwScanHit *h = &g_array_index(hits, HwScanHit, 0);
    g_assert_cmpint(h->image.kind, ==, HW_IMAGE_RAW);
    g_assert_cmpint(h->image.format, ==, formats[i]);
    g_assert_cmpuint(h->image.width, ==, HWTEST_RAW_W);
    g_assert_cmpfloat(h->image.confidence, >=, 0.5);
    if (hw_pixel_format_bits(formats[i]) == 32) {
      /* The constant fourth byte pins both ends to the pixel. */
      g_assert_cmphex(h->gpa, ==, at);
      g_assert_cmpuint(h->image.height, ==, HWTEST_RAW_H);
    } else {
      g_assert_cmpuint(h->image.height, >=, HWTEST_RAW_H - 12);
    }
    g_free(ram);
  }
}

/* The example: a 97x61 BGRA bitmap whose red channel is dithered (200/40 by
 * pixel and row) beside smooth blue and green gradients; and 97-pixel rgb888 rows padded
 * to 4 bytes (a stride of 292, not a multiple of the pixel size). Both found with their
 * width, stride and first byte. */
static void
test_raw_dithered_and_padded(void)
{
  guint8 *ram;
  g_autoptr(HwPhysMem) mem = ram_new(&ram);
  const guint64 dithered = 1u << 20, padded = (2u << 20) + 0x1f0;
  for (int y = 0; y < 61; y++)
    for (int x = 0; x < 97; x++) {
      guint8 *p = ram + dithered + ((gsize)y * 97 + (gsize)x) * 4;
      p[0] = (guint8)(x * 255 / 96), p[1] = (guint8)(y * 255 / 60);
      p[2] = (x + y) & 1 ? 200 : 40, p[3] = 255;
    }
  for (int y = 0; y < 80; y++)
    for (int x = 0; x < 97; x++) {
      guint8 *p = ram + padded + (gsize)y * 292 + (gsize)x * 3;
      p[0] = (guint8)(x * 2), p[1] = (guint8)(y * 3), p[2] = (guint8)((x + y) * 255 / 176);
    }
  g_autoptr(GArray) hits = scan_raw(mem);
  g_assert_cmpuint(hits->len, ==, 2);
  const HwScanHit *h = &g_array_index(hits, HwScanHit, 0);
  g_assert_cmphex(h->gpa, ==, dithered);
  g_assert_cmpuint(h->image.width, ==, 97);
  g_assert_cmpuint(h->image.height, ==, 61);
  g_assert_cmpuint(h->image.stride, ==, 388);
  g_assert_cmpint(h->image.format, ==, HW_PIXEL_RGBA8888);
  h = &g_array_index(hits, HwScanHit, 1);
  g_assert_cmpuint(h->image.width, ==, 97);
  g_assert_cmpuint(h->image.stride, ==, 292);
  g_assert_cmpint(h->image.format, ==, HW_PIXEL_RGB888);
  g_assert_cmpuint(h->image.height, >=, 76);
  g_free(ram);
}

/* An rgb565 bitmap whose red channel is dithered (31/5 by pixel and row) beside smooth
 * green and blue gradients: measured by the two smooth channels, width and stride exact
 * (the dithered one misfits at every stride and once hid them). */
static void
test_raw_565_dithered(void)
{
  guint8 *ram;
  g_autoptr(HwPhysMem) mem = ram_new(&ram);
  const guint64 at = (1u << 20) + 0x230;
  for (int y = 0; y < 96; y++)
    for (int x = 0; x < 300; x++) {
      guint r = (x + y) & 1 ? 25 : 5, g = (guint)(x * 63 / 299), b = (guint)(y * 31 / 95);
      guint v = r << 11 | g << 5 | b;
      guint8 *p = ram + at + ((gsize)y * 300 + (gsize)x) * 2;
      p[0] = (guint8)v, p[1] = (guint8)(v >> 8);
    }
  g_autoptr(GArray) hits = scan_raw(mem);
  g_assert_cmpuint(hits->len, ==, 1);
  const HwScanHit *h = &g_array_index(hits, HwScanHit, 0);
  g_assert_cmpint(h->image.format, ==, HW_PIXEL_RGB565);
  g_assert_cmpuint(h->image.width, ==, 300);
  g_assert_cmpuint(h->image.stride, ==, 600);
  g_assert_cmpuint(h->image.height, >=, 80);
  g_free(ram);
}

/* A gray picture dithered pixel by pixel and row by row (200/40 over a smooth gradient,
 * a checkerboard: no byte is close to the next one), and the same picture undithered:
 * both are found as gray8 at their own stride, not as rgb565 (the dithered one lines up
 * as rgb565 at twice its stride, the plain one at its own). */
static void
test_raw_gray_dithered(void)
{
  guint8 *ram;
  g_autoptr(HwPhysMem) mem = ram_new(&ram);
  const guint64 at[2] = { (1u << 20) + 0x35, 6u << 20 };
  const guint w = 640, h = 200;
  for (guint k = 0; k < 2; k++)
    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++) {
        int v = 60 + (int)(x * 100 / (w - 1)) + (int)(y * 40 / (h - 1));
        if (k == 0)
          v += (x + y) & 1 ? 50 : -50;
        ram[at[k] + (gsize)y * w + x] = (guint8)v;
      }
  g_autoptr(GArray) hits = scan_raw(mem);
  g_assert_cmpuint(hits->len, ==, 2);
  for (guint k = 0; k < 2; k++) {
    const HwScanHit *hit = &g_array_index(hits, HwScanHit, k);
    g_assert_cmpint(hit->image.format, ==, HW_PIXEL_GRAY8);
    g_assert_cmpuint(hit->image.stride, ==, w);
    g_assert_cmpuint(hit->image.width, ==, w);
    g_assert_cmpuint(hit->image.height, >=, h - 8);
    g_assert_cmphex(hit->gpa % w, ==, at[k] % w);
  }
  g_free(ram);
}

/* One smooth picture whose middle rows are white (a blank band): the pages of the band
 * are no pixels, so the scan sees two runs; they are one picture, one hit. */
static void
test_raw_pieces_merged(void)
{
  guint8 *ram;
  g_autoptr(HwPhysMem) mem = ram_new(&ram);
  const guint64 at = (3u << 20) + 0x40;
  const guint w = 600, h = 200, stride = 3 * 600;
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++) {
      guint8 *p = ram + at + (gsize)y * stride + (gsize)x * 3;
      gboolean band = y >= 80 && y < 100;
      p[0] = band ? 0xff : (guint8)(x * 255 / (w - 1));
      p[1] = band ? 0xff : (guint8)(y * 255 / (h - 1));
      p[2] = band ? 0xff : (guint8)((x + y) * 255 / (w + h));
    }
  g_autoptr(GArray) hits = scan_raw(mem);
  g_assert_cmpuint(hits->len, ==, 1);
  const HwScanHit *hit = &g_array_index(hits, HwScanHit, 0);
  g_assert_cmpuint(hit->image.width, ==, w);
  g_assert_cmpuint(hit->image.stride, ==, stride);
  g_assert_cmpint(hit->image.format, ==, HW_PIXEL_RGB888);
  /* Both pieces: from the first rows to the last. */
  g_assert_cmpuint(hit->gpa, <=, at + 8 * stride);
  g_assert_cmpuint(hit->gpa + hit->image.size, >=, at + (h - 8) * stride);
  g_free(ram);
}

/* A smooth picture whose colours change the same along its rows as down them: a
 * stride a pixel short reads it along the diagonal, where it does not change at all,
 * and lines up better than the true one; the seam where one row's right edge meets
 * the next row's left edge is at the same column only at the true stride. */
static void
test_raw_diagonal(void)
{
  guint8 *ram;
  g_autoptr(HwPhysMem) mem = ram_new(&ram);
  const guint64 at = (2u << 20) + 0x10;
  const guint w = 500, h = 300, stride = 4 * w;
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++) {
      guint8 *p = ram + at + (gsize)y * stride + (gsize)x * 4;
      guint d = (x + (h - 1 - y)) * 255 / (w + h);   /* the same along x and up y */
      p[0] = (guint8)d, p[1] = (guint8)(255 - d), p[2] = (guint8)(d / 2 + 60), p[3] = 0xff;
    }
  g_autoptr(GArray) hits = scan_raw(mem);
  g_assert_cmpuint(hits->len, ==, 1);
  const HwScanHit *hit = &g_array_index(hits, HwScanHit, 0);
  g_assert_cmpuint(hit->image.stride, ==, stride);
  g_assert_cmpuint(hit->image.width, ==, w);
  g_assert_cmpint(hit->image.format, ==, HW_PIXEL_RGBA8888);
  g_free(ram);
}

/* The scan of MEM finds one picture: the test picture's rows, STRIDE apart from AT,
 * HWTEST_RAW_W pixels of format F wide (the padding left out). */
static void
assert_one_padded_hit(HwPhysMem *mem, guint64 at, guint stride, HwPixelFormat f)
{
  g_autoptr(GArray) hits = scan_raw(mem);
  g_assert_cmpuint(hits->len, ==, 1);
  const HwScanHit *hit = &g_array_index(hits, HwScanHit, 0);
  g_assert_cmpuint(hit->image.stride, ==, stride);
  g_assert_cmpuint(hit->image.width, ==, HWTEST_RAW_W);
  g_assert_cmpint(hit->image.format, ==, f);
  g_assert_cmphex(hit->gpa % stride, ==, at % stride);
}

/* 32-bit rows padded with 48 bytes of memory as it was (noise): the width is the stride
 * less the padding, to the pixel. */
static void
test_raw_junk_padding(void)
{
  guint8 *ram;
  g_autoptr(HwPhysMem) mem = ram_new(&ram);
  const guint64 at = 5u << 20;
  const guint stride = 4 * HWTEST_RAW_W + 48;
  GRand *rand = g_rand_new_with_seed(7);
  for (guint y = 0; y < HWTEST_RAW_H; y++) {
    guint8 *row = ram + at + (gsize)y * stride;
    for (guint x = 0; x < HWTEST_RAW_W; x++) {
      guint8 px[4];
      hwtest_raw_pixel((int)x, (int)y, px);
      row[4 * x] = px[2], row[4 * x + 1] = px[1], row[4 * x + 2] = px[0], row[4 * x + 3] = 0;
    }
    for (guint k = 4 * HWTEST_RAW_W; k < stride; k++)
      row[k] = (guint8)g_rand_int_range(rand, 1, 255);
  }
  g_rand_free(rand);
  assert_one_padded_hit(mem, at, stride, HW_PIXEL_XRGB8888);
  g_free(ram);
}

/* 24-bit rows padded by one pixel of memory as it was, mostly zero: the padding is
 * zero in seven rows of eight and unrelated bytes in the others, too seldom zero to be
 * zero padding and too seldom unlike the row above to stand out by its differences. */
static void
test_raw_mostly_zero_padding(void)
{
  guint8 *ram;
  g_autoptr(HwPhysMem) mem = ram_new(&ram);
  const guint64 at = (5u << 20) + 1000;
  const guint stride = 3 * HWTEST_RAW_W + 3;
  GRand *rand = g_rand_new_with_seed(11);
  for (guint y = 0; y < HWTEST_RAW_H; y++) {
    guint8 *row = ram + at + (gsize)y * stride;
    for (guint x = 0; x < HWTEST_RAW_W; x++) {
      guint8 px[4];
      hwtest_raw_pixel((int)x, (int)y, px);
      memcpy(row + 3 * x, px, 3);
      row[3 * x] = (guint8)MAX(px[0], 8);   /* no zero edge byte to join the padding */
    }
    for (guint k = 3 * HWTEST_RAW_W; k < stride; k++)
      row[k] = g_rand_int_range(rand, 0, 8) == 0 ? (guint8)g_rand_int_range(rand, 1, 255) : 0;
  }
  g_rand_free(rand);
  assert_one_padded_hit(mem, at, stride, HW_PIXEL_RGB888);
  g_free(ram);
}

/* Width guesses, as the viewer offers them: the dithered BGRA bitmap and the padded
 * rgb888 rows give their stride and width first; noise, a short range, a range that
 * cannot be read and 1-bit pixels give none. */
static void
test_raw_guess_strides(void)
{
  guint8 *ram;
  g_autoptr(HwPhysMem) mem = ram_new(&ram);
  const guint64 dithered = 1u << 20, padded = (2u << 20) + 0x1f0, noise = 3u << 20;
  for (int y = 0; y < 61; y++)
    for (int x = 0; x < 97; x++) {
      guint8 *p = ram + dithered + ((gsize)y * 97 + (gsize)x) * 4;
      p[0] = (guint8)(x * 255 / 96), p[1] = (guint8)(y * 255 / 60);
      p[2] = (x + y) & 1 ? 200 : 40, p[3] = 255;
    }
  for (int y = 0; y < 80; y++)
    for (int x = 0; x < 97; x++) {
      guint8 *p = ram + padded + (gsize)y * 292 + (gsize)x * 3;
      p[0] = (guint8)(x * 2), p[1] = (guint8)(y * 3), p[2] = (guint8)((x + y) * 255 / 176);
    }
  GRand *rand = g_rand_new_with_seed(11);
  for (gsize i = 0; i < (1u << 20); i++)
    ram[noise + i] = (guint8)g_rand_int(rand);
  g_rand_free(rand);
  HwReader r = hw_reader_for_physmem(mem);
  HwStrideGuess g[8];
  guint n = hw_image_guess_strides(&r, dithered, 61 * 388, HW_PIXEL_BGRA8888, g, 8);
  g_assert_cmpuint(n, >=, 1);
  g_assert_cmpuint(g[0].stride, ==, 388);
  g_assert_cmpuint(g[0].width, ==, 97);
  g_assert_cmpint(g[0].format, ==, HW_PIXEL_BGRA8888);
  g_assert_cmpfloat(g[0].fit, >, 0.9);
  for (guint i = 1; i < n; i++)
    g_assert_cmpuint(g[i].stride, !=, 388);
  n = hw_image_guess_strides(&r, padded, 80 * 292, HW_PIXEL_RGB888, g, 8);
  g_assert_cmpuint(n, >=, 1);
  g_assert_cmpuint(g[0].stride, ==, 292);
  g_assert_cmpuint(g[0].width, ==, 97);
  g_assert_cmpuint(hw_image_guess_strides(&r, dithered, 61 * 388, HW_PIXEL_BGRA8888, g, 1),
                   ==, 1);
  g_assert_cmpuint(hw_image_guess_strides(&r, noise, 1u << 20, HW_PIXEL_RGBA8888, g, 8), ==, 0);
  g_assert_cmpuint(hw_image_guess_strides(&r, dithered, 256, HW_PIXEL_BGRA8888, g, 8), ==, 0);
  g_assert_cmpuint(hw_image_guess_strides(&r, dithered, 61 * 388, HW_PIXEL_MONO1, g, 8), ==, 0);
  g_assert_cmpuint(hw_image_guess_strides(&r, dithered, 61 * 388, HW_PIXEL_BGRA8888, g, 0), ==, 0);
  g_assert_cmpuint(hw_image_guess_strides(&r, G_MAXUINT64 - 4096, 1u << 20, HW_PIXEL_RGB888,
                                          g, 8), ==, 0);
  g_free(ram);
}

/* A large xrgb8888 picture with its first channel dithered, measured over a length at
 * which the samples' spacing is a whole number of pixels: they must not all fall on
 * the dithered channel (none of them would be smooth, and no stride would be found). */
static void
test_raw_guess_whole_pixel_spacing(void)
{
  guint8 *ram;
  g_autoptr(HwPhysMem) mem = ram_new(&ram);
  const guint w = 1366, stride = 4 * w;
  /* 8192 samples over the length less the widest stride tried: 508 bytes apart. */
  const gsize len = 508u * 8192 + 4u * 4096 + 512 + 4;
  for (gsize y = 0; y * stride < len; y++)
    for (gsize x = 0; x < w; x++) {
      guint8 *p = ram + y * stride + x * 4;
      p[0] = (x + y) & 1 ? 200 : 40;
      p[1] = (guint8)(x * 255 / (w - 1)), p[2] = (guint8)(y & 0xff), p[3] = 0;
    }
  HwReader r = hw_reader_for_physmem(mem);
  HwStrideGuess g[4];
  guint n = hw_image_guess_strides(&r, 0, len, HW_PIXEL_XRGB8888, g, 4);
  g_assert_cmpuint(n, >=, 1);
  g_assert_cmpuint(g[0].stride, ==, stride);
  g_assert_cmpuint(g[0].width, ==, w);
  g_free(ram);
}

/* Noise, text, small integers, pointers and a constant fill are not pictures. (A
 * regular ramp of 32-bit counters is: it draws as a smooth gradient, and is reported
 * as one.) */
static void
test_raw_not_pictures(void)
{
  guint8 *ram;
  g_autoptr(HwPhysMem) mem = ram_new(&ram);
  GRand *rand = g_rand_new_with_seed(3);
  for (gsize i = 0; i < (1u << 20); i++)
    ram[i] = (guint8)g_rand_int(rand);
  for (gsize i = 1u << 20; i < (2u << 20); i++)
    ram[i] = (guint8)" etaoinshrdlu\nETAOIN.,"[g_rand_int_range(rand, 0, 22)];
  for (guint32 i = 0; i < (1u << 18); i++) {
    guint32 v = g_rand_int_range(rand, 0, 5000);   /* sizes, counts, indices */
    memcpy(ram + (2u << 20) + 4 * i, &v, 4);
  }
  for (guint64 i = 0; i < (1u << 17); i++) {
    guint64 p = 0xffff888000000000ull + (guint64)g_rand_int(rand) * 64;
    memcpy(ram + (3u << 20) + 8 * i, &p, 8);
  }
  memset(ram + (4u << 20), 0xff, 1u << 20);
  /* Tables of consecutive numbers and characters (as in ICU's data): smooth along and
   * down at any stride, but one sequence, not a picture. */
  for (guint32 i = 0; i < (1u << 15); i++) {
    guint16 v = (guint16)(0x0460 + i);
    memcpy(ram + (5u << 20) + 2 * i, &v, 2);
  }
  for (guint32 i = 0; i < (1u << 14); i++) {
    guint32 c = 0x0e5c + i % 0x0fff;   /* three-byte UTF-8 */
    guint8 *u = ram + (6u << 20) + 3 * i;
    u[0] = (guint8)(0xe0 | c >> 12), u[1] = (guint8)(0x80 | (c >> 6 & 0x3f));
    u[2] = (guint8)(0x80 | (c & 0x3f));
  }
  g_rand_free(rand);
  g_autoptr(GArray) hits = scan_raw(mem);
  for (guint i = 0; i < hits->len; i++)
    g_test_message("false hit at 0x%" G_GINT64_MODIFIER "x: %ux%u %s",
                   g_array_index(hits, HwScanHit, i).gpa,
                   g_array_index(hits, HwScanHit, i).image.width,
                   g_array_index(hits, HwScanHit, i).image.height,
                   hw_pixel_format_name(g_array_index(hits, HwScanHit, i).image.format));
  g_assert_cmpuint(hits->len, ==, 0);
  g_free(ram);
}

/* PNG and JPEG in physical RAM: one across the chunk boundary, and the scan gives
 * the same hits with 1 and 4 threads. */
static void
test_phys_files(void)
{
  guint8 *ram;
  g_autoptr(HwPhysMem) mem = ram_new(&ram);
  gsize plen, jlen;
  g_autofree guint8 *png = load("photo.png", &plen);
  g_autofree guint8 *jpg = load("photo.jpg", &jlen);
  memcpy(ram + (8u << 20) - 5000, png, plen);
  memcpy(ram + 12345, jpg, jlen);
  guint images = (1u << HW_IMAGE_PNG) | (1u << HW_IMAGE_JPEG);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) one = hw_scan_phys(mem, NULL, images, 1, NULL, NULL, NULL, &error);
  g_autoptr(GArray) four = hw_scan_phys(mem, NULL, images, 4, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(one->len, ==, 2);
  g_assert_cmpmem(one->data, one->len * sizeof(HwScanHit), four->data,
                  four->len * sizeof(HwScanHit));
  const HwScanHit *j = &g_array_index(one, HwScanHit, 0), *p = &g_array_index(one, HwScanHit, 1);
  g_assert_cmphex(j->gpa, ==, 12345);
  g_assert_cmpint(j->image.kind, ==, HW_IMAGE_JPEG);
  g_assert_cmpuint(j->image.size, ==, jlen);
  g_assert_cmphex(p->gpa, ==, (8u << 20) - 5000);
  g_assert_cmpint(p->image.kind, ==, HW_IMAGE_PNG);
  g_assert_cmpuint(p->image.size, ==, plen);
  g_free(ram);
}

/* A guest that plants a thousand PNG heads, each before a fake chunk claiming 240 MiB:
 * every check would CRC to the end of RAM (gigabytes in all). The checks' read budget
 * stops that, and the scan says its result may be partial. */
static void
test_planted_fakes(void)
{
  guint8 *ram;
  g_autoptr(HwPhysMem) mem = ram_new(&ram);
  gsize plen;
  g_autofree guint8 *png = load("photo.png", &plen);
  static const guint8 idat[] = { 0x0f, 0x00, 0x00, 0x00, 'I', 'D', 'A', 'T' };
  for (gsize at = 4096; at + 4096 <= RAM; at += 16384) {
    memcpy(ram + at, png, 33);   /* signature and a valid IHDR */
    memcpy(ram + at + 33, idat, sizeof idat);
    memset(ram + at + 41, 0x55, 4096 - 41);
  }
  g_autoptr(GError) error = NULL;
  gboolean partial = FALSE;
  g_autoptr(GArray) hits = hw_scan_phys(mem, NULL, 1u << HW_IMAGE_PNG, 2, NULL, NULL, &partial,
                                        &error);
  g_assert_no_error(error);
  g_assert_true(partial);
  g_assert_cmpuint(hits->len, ==, 0);

  /* An honest scan is not partial. */
  memset(ram, 0, RAM);
  memcpy(ram + 12345, png, plen);
  g_autoptr(GArray) fine = hw_scan_phys(mem, NULL, 1u << HW_IMAGE_PNG, 2, NULL, NULL, &partial,
                                        &error);
  g_assert_false(partial);
  g_assert_cmpuint(fine->len, ==, 1);
  g_free(ram);
}

/* A PNG and raw pixels spread over VA-contiguous pages in reversed physical order. */
static void
test_vmas_scattered(void)
{
  guint8 *ram;
  g_autoptr(HwPhysMem) mem = ram_new(&ram);
  const guint64 pml4 = 0x100000, pdpt = 0x101000, pd = 0x102000, pt = 0x103000;
  const guint64 va = 0x400000;
  const guint n_pages = 48;
  guint64 e;
  memcpy(ram + pml4 + 8 * ((va >> 39) & 511), (e = pdpt | 7, &e), 8);
  memcpy(ram + pdpt + 8 * ((va >> 30) & 511), (e = pd | 7, &e), 8);
  memcpy(ram + pd + 8 * ((va >> 21) & 511), (e = pt | 7, &e), 8);
  for (guint i = 0; i < n_pages; i++) {
    e = (0x800000 + (guint64)(n_pages - i) * 0x3000) | 7;
    memcpy(ram + pt + 8 * (((va >> 12) & 511) + i), &e, 8);
  }
  /* Build the contents in VA order, then copy each page to its frame. */
  g_autofree guint8 *image = g_malloc0((gsize)n_pages * 4096);
  gsize plen;
  g_autofree guint8 *png = load("photo.png", &plen);
  memcpy(image + 300, png, plen);
  put_picture(image + 8 * 4096, HW_PIXEL_RGBA8888);
  for (guint i = 0; i < n_pages; i++)
    memcpy(ram + 0x800000 + (gsize)(n_pages - i) * 0x3000, image + (gsize)i * 4096, 4096);

  g_autoptr(HwMmu) mmu = hw_mmu_new_x86_64(mem, &(HwX86Paging){ .cr3 = pml4, .nxe = TRUE });
  g_autoptr(GArray) vmas = g_array_new(FALSE, TRUE, sizeof(HwVma));
  HwVma v = { .start = va, .end = va + (guint64)n_pages * 4096 };
  g_array_append_val(vmas, v);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) hits = hw_scan_vmas(mmu, mem, vmas, NULL, (1u << HW_IMAGE_N_KINDS) - 1, NULL,
                                        &error);
  g_assert_no_error(error);
  g_assert_cmpuint(hits->len, ==, 2);
  const HwScanHit *p = &g_array_index(hits, HwScanHit, 0), *r = &g_array_index(hits, HwScanHit, 1);
  g_assert_cmpint(p->image.kind, ==, HW_IMAGE_PNG);
  g_assert_cmphex(p->va, ==, va + 300);
  g_assert_cmphex(p->image.addr, ==, va + 300);
  g_assert_cmphex(p->gpa, ==, 0x800000 + (guint64)n_pages * 0x3000 + 300);
  g_assert_cmpuint(p->image.size, ==, plen);
  g_assert_cmpint(r->image.kind, ==, HW_IMAGE_RAW);
  g_assert_cmphex(r->va, ==, va + 8 * 4096);
  g_assert_cmpuint(r->image.width, ==, HWTEST_RAW_W);
  g_assert_cmpuint(r->image.height, ==, HWTEST_RAW_H);
  /* Physically the PNG is in pieces: the physical scan cannot see it. */
  g_autoptr(GArray) phys = hw_scan_phys(mem, NULL, 1u << HW_IMAGE_PNG, 1, NULL, NULL, NULL, &error);
  g_assert_cmpuint(phys->len, ==, 0);
  g_free(ram);
}

static void
test_kinds_parse(void)
{
  guint mask;
  g_autoptr(GError) error = NULL;
  g_assert_true(hw_image_kinds_parse("png, jpg", &mask, &error));
  g_assert_cmphex(mask, ==, (1u << HW_IMAGE_PNG) | (1u << HW_IMAGE_JPEG));
  g_assert_true(hw_image_kinds_parse("all", &mask, &error));
  g_assert_cmphex(mask, ==, (1u << HW_IMAGE_N_KINDS) - 1);
  const char *bad[] = { "tiff", "", ",", "png,,x" };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_clear_error(&error);
    g_assert_false(hw_image_kinds_parse(bad[i], &mask, &error));
    g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
  }
  HwPixelFormat f;
  g_assert_true(hw_pixel_format_parse("BGRA8888", &f));
  g_assert_cmpint(f, ==, HW_PIXEL_BGRA8888);
  g_assert_true(hw_pixel_format_parse("1-bit", &f));
  g_assert_cmpint(f, ==, HW_PIXEL_MONO1);
  g_assert_false(hw_pixel_format_parse("rgb999", &f));
}

static void
test_pixels_to_rgba(void)
{
  const guint8 bgrx[] = { 1, 2, 3, 0 }, rgb565[] = { 0x1f, 0xf8 }, mono[] = { 0xa0 };
  guint8 out[16];
  hw_pixels_to_rgba(HW_PIXEL_XRGB8888, bgrx, 0, 1, out);
  g_assert_cmpmem(out, 4, ((guint8[]){ 3, 2, 1, 255 }), 4);
  hw_pixels_to_rgba(HW_PIXEL_RGB565, rgb565, 0, 1, out);
  g_assert_cmpmem(out, 4, ((guint8[]){ 255, 0, 255, 255 }), 4);
  hw_pixels_to_rgba(HW_PIXEL_MONO1, mono, 1, 2, out);
  g_assert_cmpmem(out, 8, ((guint8[]){ 0, 0, 0, 255, 255, 255, 255, 255 }), 8);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/scan/png/valid", test_png_valid);
  g_test_add_func("/scan/raw/guess-strides", test_raw_guess_strides);
  g_test_add_func("/scan/raw/guess-whole-pixel-spacing", test_raw_guess_whole_pixel_spacing);
  g_test_add_func("/scan/png/corrupt", test_png_corrupt);
  g_test_add_func("/scan/jpeg/valid", test_jpeg_valid);
  g_test_add_func("/scan/jpeg/corrupt", test_jpeg_corrupt);
  g_test_add_func("/scan/gif-bmp/valid", test_gif_bmp_valid);
  g_test_add_func("/scan/gif-bmp/corrupt", test_gif_bmp_corrupt);
  g_test_add_func("/scan/files/mutations", test_mutations);
  g_test_add_func("/scan/raw/formats", test_raw_formats);
  g_test_add_func("/scan/raw/not-pictures", test_raw_not_pictures);
  g_test_add_func("/scan/raw/dithered-and-padded", test_raw_dithered_and_padded);
  g_test_add_func("/scan/raw/565-dithered", test_raw_565_dithered);
  g_test_add_func("/scan/raw/gray-dithered", test_raw_gray_dithered);
  g_test_add_func("/scan/raw/pieces-merged", test_raw_pieces_merged);
  g_test_add_func("/scan/raw/junk-padding", test_raw_junk_padding);
  g_test_add_func("/scan/raw/mostly-zero-padding", test_raw_mostly_zero_padding);
  g_test_add_func("/scan/raw/diagonal", test_raw_diagonal);
  g_test_add_func("/scan/images/phys", test_phys_files);
  g_test_add_func("/scan/images/vmas-scattered", test_vmas_scattered);
  g_test_add_func("/scan/images/planted-fakes", test_planted_fakes);
  g_test_add_func("/scan/image/kinds-parse", test_kinds_parse);
  g_test_add_func("/scan/image/pixels-to-rgba", test_pixels_to_rgba);
  return g_test_run();
}
