/* The decoders behind the finders and hw_image_decode_rgba: files made by the formats'
 * own encoders found and decoded to the pixels they hold; then a table of hostile files
 * (truncated, a wrong CRC, corrupt compressed data, a JPEG that fails mid-scan, bad LZW,
 * absurd sizes, BMP offsets past the end), each refused with its exact error code and
 * not found by the finder; and the WebP finder's structure checks. */
#include <haywire/haywire.h>
#include "../common/encode-images.h"

#include <string.h>
#include <zlib.h>
#include "buf-reader.h"

#define AT 100u                 /* where the test files lie in memory */
#define W 37u                   /* test pictures: odd sizes, not a multiple of 8 */
#define H 23u


/* Memory holding FILE at AT, zeros before it and PAD zero bytes after it. */
typedef struct {
  guint8 *mem;
  Buf buf;
  HwReader r;
} Placed;

static Placed *
place(const GByteArray *file, gsize pad)
{
  Placed *p = g_new0(Placed, 1);
  gsize total = AT + file->len + pad;
  p->mem = g_malloc0(total);
  memcpy(p->mem + AT, file->data, file->len);
  p->buf = (Buf){ p->mem, total };
  p->r = (HwReader){ buf_read, &p->buf, NULL };
  return p;
}

static void
placed_free(Placed *p)
{
  g_free(p->mem);
  g_free(p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Placed, placed_free)

typedef gboolean (*CheckFunc)(const HwReader *r, guint64 addr, HwImage *out);

static CheckFunc
check_for(HwImageKind kind)
{
  switch (kind) {
  case HW_IMAGE_PNG: return hw_image_check_png;
  case HW_IMAGE_JPEG: return hw_image_check_jpeg;
  case HW_IMAGE_GIF: return hw_image_check_gif;
  case HW_IMAGE_BMP: return hw_image_check_bmp;
  case HW_IMAGE_WEBP: return hw_image_check_webp;
  default: g_assert_not_reached();
  }
}

/* A BMP written by hand: W x H, 24-bit bottom-up, the pattern's colours. */
static GByteArray *
encode_bmp(void)
{
  guint32 stride = (W * 3 + 3) & ~3u, size = 54 + stride * H;
  guint8 head[54] = { 'B', 'M' };
  guint32 fields[][2] = { { 2, size }, { 10, 54 }, { 14, 40 }, { 18, W }, { 22, H },
                          { 34, stride * H } };
  for (gsize i = 0; i < G_N_ELEMENTS(fields); i++)
    for (guint b = 0; b < 4; b++)
      head[fields[i][0] + b] = (guint8)(fields[i][1] >> (8 * b));
  head[26] = 1;                 /* planes */
  head[28] = 24;                /* bits per pixel */
  GByteArray *a = g_byte_array_new();
  g_byte_array_append(a, head, sizeof head);
  g_autofree guint8 *row = g_malloc0(stride);
  for (guint32 y = 0; y < H; y++) {
    for (guint32 x = 0; x < W; x++) {
      guint8 px[4];
      hw_test_pattern(W, H, x, H - 1 - y, FALSE, px);
      row[3 * x] = px[2], row[3 * x + 1] = px[1], row[3 * x + 2] = px[0];
    }
    g_byte_array_append(a, row, stride);
  }
  return a;
}

/* ---- valid files ------------------------------------------------------------------ */

typedef enum {
  V_PNG, V_PNG_ADAM7, V_JPEG, V_JPEG_GRAY, V_JPEG_PROGRESSIVE, V_GIF, V_GIF_INTERLACED,
  V_WEBP_LOSSLESS, V_WEBP_LOSSY, V_WEBP_ALPHA, V_BMP, N_VALID
} Valid;

static const struct {
  const char *name;
  HwImageKind kind;
  guint tolerance;              /* per channel: 0 for lossless files */
  gboolean alpha;               /* the pattern with its alpha */
} valid[N_VALID] = {
  [V_PNG] = { "png", HW_IMAGE_PNG, 0, TRUE },
  [V_PNG_ADAM7] = { "png-adam7", HW_IMAGE_PNG, 0, TRUE },
  [V_JPEG] = { "jpeg", HW_IMAGE_JPEG, 40, FALSE },
  [V_JPEG_GRAY] = { "jpeg-gray", HW_IMAGE_JPEG, 8, FALSE },
  [V_JPEG_PROGRESSIVE] = { "jpeg-progressive", HW_IMAGE_JPEG, 40, FALSE },
  [V_GIF] = { "gif", HW_IMAGE_GIF, 0, FALSE },
  [V_GIF_INTERLACED] = { "gif-interlaced", HW_IMAGE_GIF, 0, FALSE },
  [V_WEBP_LOSSLESS] = { "webp-lossless", HW_IMAGE_WEBP, 0, TRUE },
  [V_WEBP_LOSSY] = { "webp-lossy", HW_IMAGE_WEBP, 40, FALSE },
  [V_WEBP_ALPHA] = { "webp-alpha", HW_IMAGE_WEBP, 40, TRUE },
  [V_BMP] = { "bmp", HW_IMAGE_BMP, 0, FALSE },
};

static GByteArray *
encode(Valid v)
{
  switch (v) {
  case V_PNG: return hw_test_encode_png(W, H, FALSE);
  case V_PNG_ADAM7: return hw_test_encode_png(W, H, TRUE);
  case V_JPEG: return hw_test_encode_jpeg(W, H, FALSE, FALSE);
  case V_JPEG_GRAY: return hw_test_encode_jpeg(W, H, TRUE, FALSE);
  case V_JPEG_PROGRESSIVE: return hw_test_encode_jpeg(W, H, FALSE, TRUE);
  case V_GIF: return hw_test_encode_gif(W, H, FALSE);
  case V_GIF_INTERLACED: return hw_test_encode_gif(W, H, TRUE);
  case V_WEBP_LOSSLESS: return hw_test_encode_webp(W, H, HW_TEST_WEBP_LOSSLESS);
  case V_WEBP_LOSSY: return hw_test_encode_webp(W, H, HW_TEST_WEBP_LOSSY);
  case V_WEBP_ALPHA: return hw_test_encode_webp(W, H, HW_TEST_WEBP_ALPHA);
  case V_BMP: return encode_bmp();
  default: g_assert_not_reached();
  }
}

/* What pixel X, Y of file V should decode to. */
static void
expected(Valid v, guint32 x, guint32 y, guint8 out[4])
{
  if (valid[v].kind == HW_IMAGE_GIF) {
    hw_test_gif_colour(hw_test_gif_index(x, y), out);
    out[3] = 255;
    return;
  }
  hw_test_pattern(W, H, x, y, valid[v].alpha, out);
  if (v == V_JPEG_GRAY)
    out[1] = out[2] = out[0];
}

static void
test_valid(gconstpointer data)
{
  Valid v = GPOINTER_TO_INT(data);
  g_autoptr(GByteArray) file = encode(v);
  g_autoptr(Placed) p = place(file, 8192);
  HwImage im;
  g_assert_true(check_for(valid[v].kind)(&p->r, AT, &im));
  g_assert_cmpint(im.kind, ==, valid[v].kind);
  g_assert_cmpuint(im.addr, ==, AT);
  g_assert_cmpuint(im.size, ==, file->len);
  g_assert_cmpuint(im.width, ==, W);
  g_assert_cmpuint(im.height, ==, H);

  g_autoptr(GError) error = NULL;
  guint w = 0, h = 0;
  g_autofree guint8 *rgba = hw_image_decode_rgba(&p->r, &im, 0, &w, &h, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(w, ==, W);
  g_assert_cmpuint(h, ==, H);
  guint worst = 0;
  for (guint32 y = 0; y < H; y++)
    for (guint32 x = 0; x < W; x++) {
      guint8 want[4];
      expected(v, x, y, want);
      const guint8 *got = rgba + ((gsize)y * W + x) * 4;
      for (int c = 0; c < 4; c++)
        worst = MAX(worst, (guint)ABS((int)got[c] - (int)want[c]));
    }
  g_assert_cmpuint(worst, <=, valid[v].tolerance);

  /* The pixel cap comes before any pixels: one pixel too few refuses the file. */
  g_clear_pointer(&rgba, g_free);
  rgba = hw_image_decode_rgba(&p->r, &im, W * H - 1, &w, &h, &error);
  g_assert_error(error, HW_ERROR, HW_ERROR_LIMIT);
  g_assert_null(rgba);
}

/* ---- hostile files ---------------------------------------------------------------- */

static guint32
be32(const guint8 *p)
{
  return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static void
put_be32(guint8 *p, guint32 v)
{
  p[0] = (guint8)(v >> 24), p[1] = (guint8)(v >> 16), p[2] = (guint8)(v >> 8), p[3] = (guint8)v;
}

static void
put_le32(guint8 *p, guint32 v)
{
  p[0] = (guint8)v, p[1] = (guint8)(v >> 8), p[2] = (guint8)(v >> 16), p[3] = (guint8)(v >> 24);
}

/* The PNG chunk TYPE's data offset in A (asserts it is there). */
static gsize
png_chunk(GByteArray *a, const char *type, guint32 *len)
{
  for (gsize pos = 8; pos + 12 <= a->len; pos += 12 + be32(a->data + pos)) {
    if (memcmp(a->data + pos + 4, type, 4) == 0) {
      *len = be32(a->data + pos);
      return pos + 8;
    }
  }
  g_assert_not_reached();
}

/* Recompute the CRC of the chunk whose data starts at OFF: the structure holds again,
 * so only the decoder can refuse what was changed. */
static void
png_fix_crc(GByteArray *a, gsize off, guint32 len)
{
  uLong crc = crc32(0, a->data + off - 4, len + 4);
  put_be32(a->data + off + len, (guint32)crc);
}

/* IHDR's CRC off by one bit, its data intact: libpng's own CRC check refuses it. */
static void
png_bad_crc(GByteArray *a)
{
  guint32 len;
  gsize off = png_chunk(a, "IHDR", &len);
  a->data[off + len] ^= 0x40;
}

/* Inflate-level damage: a stored block where deflate data is, with the CRC fixed. */
static void
png_bad_zlib(GByteArray *a)
{
  guint32 len;
  gsize off = png_chunk(a, "IDAT", &len);
  memset(a->data + off + 2, 0xff, MIN(len - 2, 16u));
  png_fix_crc(a, off, len);
}

/* Adler-32 of the image data wrong, everything else right. */
static void
png_bad_adler(GByteArray *a)
{
  guint32 len;
  gsize off = png_chunk(a, "IDAT", &len);
  a->data[off + len - 1] ^= 1;
  png_fix_crc(a, off, len);
}

static void
png_huge(GByteArray *a)
{
  guint32 len;
  gsize off = png_chunk(a, "IHDR", &len);
  put_be32(a->data + off, 100000);
  put_be32(a->data + off + 4, 100000);
  png_fix_crc(a, off, len);
}

/* The image data chunk claims 1.6 GB: refused before libpng allocates for it. */
static void
png_chunk_too_long(GByteArray *a)
{
  guint32 len;
  gsize off = png_chunk(a, "IDAT", &len);
  put_be32(a->data + off - 8, 0x6000001au);
}

static void
truncate_half(GByteArray *a)
{
  g_byte_array_set_size(a, a->len / 2);
}

/* The JPEG's scan data, from the byte after its SOS header. */
static gsize
jpeg_scan(GByteArray *a)
{
  const guint8 *sos = memmem(a->data, a->len, "\xff\xda", 2);
  g_assert_nonnull(sos);
  gsize off = (gsize)(sos - a->data);
  return off + 2 + ((gsize)sos[2] << 8 | sos[3]);
}

/* Garbage in the middle of the entropy-coded data (no 0xff, so the structure holds):
 * libjpeg fails there, deep inside jpeg_read_scanlines. */
static void
jpeg_bad_scan(GByteArray *a)
{
  gsize at = jpeg_scan(a) + (a->len - jpeg_scan(a)) / 3;
  for (gsize i = 0; i < 64; i++)
    a->data[at + i] = (guint8)(i & 1 ? 0xfe : 0x00);
}

/* The scan names a Huffman table the file never defines: libjpeg's error_exit. */
static void
jpeg_bad_table(GByteArray *a)
{
  guint8 *p = memmem(a->data, a->len, "\xff\xda", 2);
  g_assert_nonnull(p);
  p[6] = 0x33;                  /* SOS: length, count, then the first component's tables */
}

static void
jpeg_huge(GByteArray *a)
{
  guint8 *sof = memmem(a->data, a->len, "\xff\xc0", 2);
  g_assert_nonnull(sof);
  sof[5] = sof[7] = 0xea;       /* 60000 x 60000 (libjpeg itself stops at 65500) */
  sof[6] = sof[8] = 0x60;
}

/* The GIF's first data sub-block, after its descriptor and the LZW code size. */
static void
gif_bad_lzw(GByteArray *a)
{
  /* Screen (13) and a 256-entry table (768), descriptor (10), code size (1). */
  gsize off = 13 + 768 + 10 + 1;
  g_assert_cmpuint(a->data[off - 11], ==, 0x2c);
  guint n = a->data[off];
  for (guint i = 1; i <= n; i++)
    a->data[off + i] = 0xff;   /* codes past any the table has */
}

static void
gif_huge(GByteArray *a)
{
  a->data[6] = a->data[7] = a->data[8] = a->data[9] = 0xff;
}

static void
webp_cut_in_data(GByteArray *a)
{
  /* Cut inside the image chunk but keep the RIFF size: the decoder runs out of data. */
  g_byte_array_set_size(a, a->len - 20);
  put_le32(a->data + 4, a->len - 8);
  put_le32(a->data + 16, a->len - 20);
}

static void
webp_bad_vp8l(GByteArray *a)
{
  memset(a->data + 25, 0xff, MIN(a->len - 25, 40u));   /* after the signature and size */
}

/* BMP fields (encode_bmp's layout): 2 file size, 10 pixel offset, 18 width, 22 height,
 * 28 depth. */
static void
bmp_negative_width(GByteArray *a)
{
  put_le32(a->data + 18, (guint32)-(gint32)W);
}

static void
bmp_huge(GByteArray *a)
{
  put_le32(a->data + 18, 60000);
  put_le32(a->data + 22, 60000);
}

static void
bmp_offset_past_end(GByteArray *a)
{
  put_le32(a->data + 10, a->len + 10);
}

static void
bmp_pixels_past_end(GByteArray *a)
{
  put_le32(a->data + 22, H + 5);
}

static void
bmp_min_height(GByteArray *a)
{
  put_le32(a->data + 22, 0x80000000u);   /* INT32_MIN: no absolute value in 32 bits */
}

typedef struct {
  const char *name;
  Valid file;
  void (*spoil)(GByteArray *a);
  gint code;                    /* hw_image_decode_rgba's HwError */
} Hostile;

static const Hostile hostile[] = {
  { "png-truncated", V_PNG, truncate_half, HW_ERROR_DECODE },
  { "png-wrong-crc", V_PNG, png_bad_crc, HW_ERROR_DECODE },
  { "png-corrupt-zlib", V_PNG, png_bad_zlib, HW_ERROR_DECODE },
  { "png-wrong-adler", V_PNG_ADAM7, png_bad_adler, HW_ERROR_DECODE },
  { "png-huge", V_PNG, png_huge, HW_ERROR_LIMIT },
  { "png-chunk-too-long", V_PNG, png_chunk_too_long, HW_ERROR_DECODE },
  { "jpeg-truncated", V_JPEG, truncate_half, HW_ERROR_DECODE },
  { "jpeg-mid-scan", V_JPEG, jpeg_bad_scan, HW_ERROR_DECODE },
  { "jpeg-progressive-mid-scan", V_JPEG_PROGRESSIVE, jpeg_bad_scan, HW_ERROR_DECODE },
  { "jpeg-no-table", V_JPEG, jpeg_bad_table, HW_ERROR_DECODE },
  { "jpeg-huge", V_JPEG, jpeg_huge, HW_ERROR_LIMIT },
  { "gif-truncated", V_GIF, truncate_half, HW_ERROR_DECODE },
  { "gif-bad-lzw", V_GIF, gif_bad_lzw, HW_ERROR_DECODE },
  { "gif-huge", V_GIF, gif_huge, HW_ERROR_LIMIT },
  { "webp-truncated", V_WEBP_LOSSY, truncate_half, HW_ERROR_DECODE },
  { "webp-cut-in-data", V_WEBP_LOSSY, webp_cut_in_data, HW_ERROR_DECODE },
  { "webp-corrupt-lossless", V_WEBP_LOSSLESS, webp_bad_vp8l, HW_ERROR_DECODE },
  { "bmp-truncated", V_BMP, truncate_half, HW_ERROR_DECODE },
  { "bmp-negative-width", V_BMP, bmp_negative_width, HW_ERROR_DECODE },
  { "bmp-huge", V_BMP, bmp_huge, HW_ERROR_LIMIT },
  { "bmp-offset-past-end", V_BMP, bmp_offset_past_end, HW_ERROR_DECODE },
  { "bmp-pixels-past-end", V_BMP, bmp_pixels_past_end, HW_ERROR_DECODE },
  { "bmp-min-height", V_BMP, bmp_min_height, HW_ERROR_LIMIT },
};

static void
test_hostile(gconstpointer data)
{
  const Hostile *c = data;
  g_autoptr(GByteArray) file = encode(c->file);
  c->spoil(file);
  /* Readable memory ends with the file: a truncated one cannot go on into zeros (which
   * lossy VP8, without a checksum, would decode). */
  g_autoptr(Placed) p = place(file, 0);
  /* The decoder straight on the file, as a viewer would call it on a stale hit. */
  HwImage im = { .kind = valid[c->file].kind, .addr = AT, .size = file->len,
                 .width = W, .height = H, .confidence = 1.0 };
  g_autoptr(GError) error = NULL;
  guint w = 0, h = 0;
  g_autofree guint8 *rgba = hw_image_decode_rgba(&p->r, &im, 0, &w, &h, &error);
  g_assert_error(error, HW_ERROR, c->code);
  g_test_message("%s", error->message);
  if (c->spoil == png_chunk_too_long)
    g_assert_nonnull(strstr(error->message, "past the file's end"));
  g_assert_null(rgba);
  g_assert_cmpuint(w, ==, 0);
  /* And the finder does not count it. */
  HwImage found;
  g_assert_false(check_for(im.kind)(&p->r, AT, &found));
}

/* ---- the call itself -------------------------------------------------------------- */

static gboolean
fail_read(gpointer ctx, guint64 addr, void *buf, gsize len)
{
  return FALSE;
}

static void
test_decode_arguments(void)
{
  g_autoptr(GByteArray) file = hw_test_encode_png(W, H, FALSE);
  g_autoptr(Placed) p = place(file, 8192);
  HwImage im = { .kind = HW_IMAGE_PNG, .addr = AT, .size = file->len };
  HwReader none = { fail_read, NULL, NULL };
  gint64 spent = 10;
  HwReader poor = { buf_read, &p->buf, &spent };
  const struct {
    const HwReader *r;
    HwImage im;
    gint code;
  } cases[] = {
    { NULL, im, HW_ERROR_INVALID_ARGUMENT },
    { &p->r, { .kind = HW_IMAGE_N_KINDS, .addr = AT, .size = 8 }, HW_ERROR_INVALID_ARGUMENT },
    { &p->r, { .kind = HW_IMAGE_PNG, .addr = AT, .size = 0 }, HW_ERROR_INVALID_ARGUMENT },
    { &p->r, { .kind = HW_IMAGE_PNG, .addr = AT, .size = HW_IMAGE_MAX_FILE + 1ull },
      HW_ERROR_INVALID_ARGUMENT },
    { &p->r, { .kind = HW_IMAGE_PNG, .addr = G_MAXUINT64 - 10, .size = 100 },
      HW_ERROR_OUT_OF_RANGE },
    { &none, im, HW_ERROR_UNMAPPED },
    { &poor, im, HW_ERROR_UNMAPPED },
    { &p->r, { .kind = HW_IMAGE_RAW, .addr = AT, .width = 4, .height = 4, .stride = 15,
               .format = HW_PIXEL_RGBA8888 }, HW_ERROR_INVALID_ARGUMENT },
    { &p->r, { .kind = HW_IMAGE_RAW, .addr = AT, .width = 0, .height = 4, .stride = 16,
               .format = HW_PIXEL_RGBA8888 }, HW_ERROR_INVALID_ARGUMENT },
    { &p->r, { .kind = HW_IMAGE_RAW, .addr = AT, .width = 4, .height = 4, .stride = 16,
               .format = HW_PIXEL_N_FORMATS }, HW_ERROR_INVALID_ARGUMENT },
    { &p->r, { .kind = HW_IMAGE_RAW, .addr = AT, .width = 65535, .height = 65535,
               .stride = 65535 * 4, .format = HW_PIXEL_RGBA8888 }, HW_ERROR_LIMIT },
    { &p->r, { .kind = HW_IMAGE_RAW, .addr = AT, .width = 1, .height = 60000,
               .stride = 1u << 20, .format = HW_PIXEL_GRAY8 }, HW_ERROR_INVALID_ARGUMENT },
    { &none, { .kind = HW_IMAGE_RAW, .addr = AT, .width = 4, .height = 4, .stride = 16,
               .format = HW_PIXEL_RGBA8888 }, HW_ERROR_UNMAPPED },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    guint8 *rgba = hw_image_decode_rgba(cases[i].r, &cases[i].im, 0, NULL, NULL, &error);
    if (error == NULL || !g_error_matches(error, HW_ERROR, cases[i].code))
      g_error("case %" G_GSIZE_FORMAT ": %s", i, error ? error->message : "no error");
    g_assert_null(rgba);
    /* NULL for an error is fine too. */
    g_assert_null(hw_image_decode_rgba(cases[i].r, &cases[i].im, 0, NULL, NULL, NULL));
  }
  g_assert_null(hw_image_decode_rgba(&p->r, NULL, 0, NULL, NULL, NULL));
}

/* Raw pixels: rgb565 rows with padding, converted by format and stride. */
static void
test_decode_raw(void)
{
  static const guint8 rows[] = { 0x00, 0xf8, 0xe0, 0x07, 0xee, 0xee,
                                 0x1f, 0x00, 0xff, 0xff, 0xee, 0xee };
  Buf b = { rows, sizeof rows };
  HwReader r = { buf_read, &b, NULL };
  HwImage im = { .kind = HW_IMAGE_RAW, .addr = 0, .width = 2, .height = 2, .stride = 6,
                 .format = HW_PIXEL_RGB565 };
  static const guint8 want[] = { 255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255,
                                 255, 255, 255, 255 };
  guint w, h;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *rgba = hw_image_decode_rgba(&r, &im, 0, &w, &h, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(w, ==, 2);
  g_assert_cmpuint(h, ==, 2);
  g_assert_cmpmem(rgba, 16, want, sizeof want);
  /* The pixel cap applies to raw pixels too. */
  g_assert_null(hw_image_decode_rgba(&r, &im, 3, &w, &h, NULL));
}

/* ---- the WebP finder's structure ---------------------------------------------------- */

static void
webp_riff_small(GByteArray *a)
{
  put_le32(a->data + 4, 10);
}

static void
webp_riff_big(GByteArray *a)
{
  put_le32(a->data + 4, a->len);      /* 8 bytes past the end: the last chunk falls short */
}

static void
webp_riff_huge(GByteArray *a)
{
  put_le32(a->data + 4, 0xfffffff0u);
}

static void
webp_chunk_huge(GByteArray *a)
{
  put_le32(a->data + 16, 0x7fffffff);
}

static void
webp_first_chunk(GByteArray *a)
{
  memcpy(a->data + 12, "ALPH", 4);
}

static void
webp_vp8_start_code(GByteArray *a)
{
  a->data[23] = 0x9c;                 /* the key frame's start code is 9d 01 2a */
}

static void
webp_vp8l_signature(GByteArray *a)
{
  a->data[20] = 0x2e;
}

static void
webp_fourcc(GByteArray *a)
{
  a->data[8] = 'w';                   /* "wEBP" */
}

static void
webp_vp8x_size(GByteArray *a)
{
  put_le32(a->data + 16, 12);
}

static void
webp_chunk_name(GByteArray *a)
{
  /* The alpha file: VP8X (10 bytes of data), then ALPH: its name made binary. */
  a->data[30] = 0x01;
}

static const struct {
  const char *name;
  Valid file;
  void (*spoil)(GByteArray *a);
} webp_bad[] = {
  { "riff-too-small", V_WEBP_LOSSY, webp_riff_small },
  { "riff-past-the-data", V_WEBP_LOSSY, webp_riff_big },
  { "riff-huge", V_WEBP_LOSSY, webp_riff_huge },
  { "chunk-past-riff", V_WEBP_LOSSY, webp_chunk_huge },
  { "first-chunk-alph", V_WEBP_LOSSY, webp_first_chunk },
  { "vp8-start-code", V_WEBP_LOSSY, webp_vp8_start_code },
  { "vp8l-signature", V_WEBP_LOSSLESS, webp_vp8l_signature },
  { "not-webp", V_WEBP_LOSSY, webp_fourcc },
  { "vp8x-size", V_WEBP_ALPHA, webp_vp8x_size },
  { "chunk-name", V_WEBP_ALPHA, webp_chunk_name },
};

static void
test_webp_structure(void)
{
  g_autoptr(GByteArray) alpha = encode(V_WEBP_ALPHA);
  g_assert_cmpmem(alpha->data + 12, 4, "VP8X", 4);
  g_assert_cmpmem(alpha->data + 30, 4, "ALPH", 4);
  g_autoptr(GByteArray) lossless = encode(V_WEBP_LOSSLESS);
  g_assert_cmpmem(lossless->data + 12, 4, "VP8L", 4);
  for (gsize i = 0; i < G_N_ELEMENTS(webp_bad); i++) {
    g_autoptr(GByteArray) file = encode(webp_bad[i].file);
    webp_bad[i].spoil(file);
    g_autoptr(Placed) p = place(file, 8192);
    HwImage im;
    if (hw_image_check_webp(&p->r, AT, &im))
      g_error("webp %s accepted", webp_bad[i].name);
  }
  /* Every truncation, ending where readable memory ends. */
  g_autoptr(GByteArray) file = encode(V_WEBP_LOSSY);
  for (guint len = 0; len < file->len; len += 7) {
    Buf b = { file->data, len };
    HwReader r = { buf_read, &b, NULL };
    HwImage im;
    g_assert_false(hw_image_check_webp(&r, 0, &im));
  }
}

/* A WebP among other files in RAM: the scan finds it, with the decoder's size. */
static void
test_webp_scan(void)
{
  gsize ram_size = 1u << 20;
  g_autofree guint8 *ram = g_malloc0(ram_size);
  g_autoptr(GByteArray) webp = encode(V_WEBP_ALPHA);
  g_autoptr(GByteArray) png = encode(V_PNG);
  memcpy(ram + 12345, webp->data, webp->len);
  memcpy(ram + 300000, png->data, png->len);
  memcpy(ram + 500000, "RIFF\x20\0\0\0WEBPVP8 ", 16);   /* a fake: no key frame */
  HwRamRange range = { 0, ram_size, 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(HwPhysMem) mem = hw_physmem_new_from_data(ram, ram_size, &range, 1, &error);
  g_assert_no_error(error);
  guint kinds;
  g_assert_true(hw_image_kinds_parse("webp,png", &kinds, &error));
  g_autoptr(GArray) hits = hw_scan_phys(mem, NULL, kinds, 1, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(hits->len, ==, 2);
  const HwScanHit *h = &g_array_index(hits, HwScanHit, 0);
  g_assert_cmpint(h->image.kind, ==, HW_IMAGE_WEBP);
  g_assert_cmphex(h->gpa, ==, 12345);
  g_assert_cmpuint(h->image.size, ==, webp->len);
  g_assert_cmpuint(h->image.width, ==, W);
  g_assert_cmpuint(h->image.height, ==, H);
  g_assert_cmpint(g_array_index(hits, HwScanHit, 1).image.kind, ==, HW_IMAGE_PNG);
  g_assert_cmpstr(hw_image_kind_name(HW_IMAGE_WEBP), ==, "webp");
  g_assert_cmpstr(hw_carve_extension(HW_IMAGE_WEBP), ==, "webp");
}

/* The test guest's photo.webp (photo.png's picture, lossy) is found as 128x96. */
static void
test_webp_guest_file(void)
{
  g_autofree char *path = g_build_filename(HW_TEST_DATA, "..", "..", "guest", "images",
                                           "photo.webp", NULL);
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  GByteArray file = { (guint8 *)data, (guint)len };
  g_autoptr(Placed) p = place(&file, 8192);
  HwImage im;
  g_assert_true(hw_image_check_webp(&p->r, AT, &im));
  g_assert_cmpuint(im.size, ==, len);
  g_assert_cmpuint(im.width, ==, 128);
  g_assert_cmpuint(im.height, ==, 96);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  for (Valid v = 0; v < N_VALID; v++) {
    g_autofree char *path = g_strdup_printf("/scan/decode/valid/%s", valid[v].name);
    g_test_add_data_func(path, GINT_TO_POINTER(v), test_valid);
  }
  for (gsize i = 0; i < G_N_ELEMENTS(hostile); i++) {
    g_autofree char *path = g_strdup_printf("/scan/decode/hostile/%s", hostile[i].name);
    g_test_add_data_func(path, &hostile[i], test_hostile);
  }
  g_test_add_func("/scan/decode/arguments", test_decode_arguments);
  g_test_add_func("/scan/decode/raw", test_decode_raw);
  g_test_add_func("/scan/webp/structure", test_webp_structure);
  g_test_add_func("/scan/webp/scan", test_webp_scan);
  g_test_add_func("/scan/webp/guest-file", test_webp_guest_file);
  return g_test_run();
}
