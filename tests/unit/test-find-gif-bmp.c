/* GIF and BMP checks on synthetic files built here: valid files found with their exact
 * size inside garbage, unreadable pages and budgets, a table of corruptions, every
 * truncation, the GIF loop bounds, and random mutations. */
#include <haywire/image.h>

#include <string.h>

#define PAGE 4096u
#define BASE G_GUINT64_CONSTANT(0x7f000000)   /* guest address of Mem.data[0] */
#define MiB (1u << 20)

typedef gboolean (*CheckFunc)(const HwReader *r, guint64 addr, HwImage *out);

/* ---- memory: page-padded bytes at BASE, one page may be unreadable ---------------- */

typedef struct {
  guint8 *data;
  gsize len;                /* a multiple of PAGE */
  guint64 fail_page;        /* address of a page reads fail on; G_MAXUINT64: none */
} Mem;

static void
mem_free(Mem *m)
{
  g_free(m->data);
  g_free(m);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Mem, mem_free)

/* At least LEN bytes of garbage (the same every run). */
static Mem *
mem_new(gsize len)
{
  Mem *m = g_new0(Mem, 1);
  m->len = (len + PAGE - 1) / PAGE * PAGE;
  m->data = g_malloc(m->len);
  m->fail_page = G_MAXUINT64;
  g_autoptr(GRand) rand = g_rand_new_with_seed(42);
  for (gsize i = 0; i < m->len; i++)
    m->data[i] = (guint8)g_rand_int(rand);
  return m;
}

static gboolean
mem_read(gpointer ctx, guint64 addr, void *buf, gsize len)
{
  const Mem *m = ctx;
  if (addr < BASE || addr - BASE >= m->len || len > m->len - (addr - BASE))
    return FALSE;
  if (m->fail_page != G_MAXUINT64 && addr < m->fail_page + PAGE && addr + len > m->fail_page)
    return FALSE;
  memcpy(buf, m->data + (addr - BASE), len);
  return TRUE;
}

/* FILE copied to offset OFF of M, then CHECK at its guest address. */
static gboolean
check_in(Mem *m, gsize off, const GByteArray *file, CheckFunc check, HwImage *out)
{
  g_assert_cmpuint(off + file->len, <=, m->len);
  if (file->len > 0)                  /* an empty GByteArray's data may be NULL */
    memcpy(m->data + off, file->data, file->len);
  HwReader r = { mem_read, m, NULL };
  return check(&r, BASE + off, out);
}

/* FILE as the last bytes of readable memory, with garbage before it. */
static gboolean
check_at_end(const GByteArray *file, CheckFunc check, HwImage *out)
{
  g_autoptr(Mem) m = mem_new(file->len + 100);
  return check_in(m, m->len - file->len, file, check, out);
}

/* ---- building files ---------------------------------------------------------------- */

static void
put8(GByteArray *a, guint32 v)
{
  guint8 b = (guint8)v;
  g_byte_array_append(a, &b, 1);
}

static void
put16(GByteArray *a, guint32 v)
{
  put8(a, v);
  put8(a, v >> 8);
}

static void
put32(GByteArray *a, guint32 v)
{
  put16(a, v);
  put16(a, v >> 16);
}

static void
set_le(GByteArray *a, gsize at, guint bytes, guint32 v)
{
  g_assert_cmpuint(at + bytes, <=, a->len);
  for (guint i = 0; i < bytes; i++)
    a->data[at + i] = (guint8)(v >> (8 * i));
}

/* GIF header and a 3x2 logical screen with a 2-colour global table. */
static GByteArray *
gif_start(const char *version)
{
  GByteArray *a = g_byte_array_new();
  g_byte_array_append(a, (const guint8 *)version, 6);
  put16(a, 3);
  put16(a, 2);
  put8(a, 0x80);                  /* global table of 2^(0+1) entries, 1 bit of colour */
  put8(a, 0);                     /* background */
  put8(a, 0);                     /* aspect */
  static const guint8 table[] = { 0, 0, 0, 255, 255, 255 };
  g_byte_array_append(a, table, sizeof table);
  return a;
}

/* A 3x2 image of colour 0, with a 4-entry local table if LOCAL_TABLE. The data is
 * real LZW at code size 2: clear, 0, 0, 0 in 3 bits, then 0, 0, 0, end in 4 bits. */
static void
gif_image(GByteArray *a, gboolean local_table)
{
  put8(a, 0x2c);
  put16(a, 0);
  put16(a, 0);
  put16(a, 3);
  put16(a, 2);
  put8(a, local_table ? 0x81 : 0);
  for (guint i = 0; local_table && i < 4 * 3; i++)
    put8(a, i * 20);
  static const guint8 lzw[] = { 2, 4, 0x04, 0x00, 0x00, 0x05, 0 };
  g_byte_array_append(a, lzw, sizeof lzw);
}

/* Graphic control extension: no disposal, no delay, no transparency. */
static void
gif_control(GByteArray *a)
{
  static const guint8 gce[] = { 0x21, 0xf9, 4, 0, 0, 0, 0, 0 };
  g_byte_array_append(a, gce, sizeof gce);
}

/* Comment extension of BLOCKS full sub-blocks (an empty one if 0). */
static void
gif_comment(GByteArray *a, guint blocks)
{
  put8(a, 0x21);
  put8(a, 0xfe);
  for (guint b = 0; b < blocks; b++) {
    put8(a, 255);
    for (guint i = 0; i < 255; i++)
      put8(a, 'a' + i % 26);
  }
  put8(a, 0);
}

static GByteArray *
gif_plain(void)
{
  GByteArray *a = gif_start("GIF87a");
  gif_image(a, FALSE);
  put8(a, 0x3b);
  return a;
}

static GByteArray *
gif_extended(void)
{
  GByteArray *a = gif_start("GIF89a");
  gif_control(a);
  gif_image(a, TRUE);
  gif_comment(a, 1);
  put8(a, 0x3b);
  return a;
}

/* 10 KiB of comment: at offset 100 the file spans three pages, the middle one all
 * comment. */
static GByteArray *
gif_big(void)
{
  GByteArray *a = gif_start("GIF89a");
  gif_comment(a, 40);
  gif_image(a, FALSE);
  put8(a, 0x3b);
  return a;
}

typedef struct {
  guint32 hsize;            /* 12, 40, 52, 56, 108, 124 */
  gint32 width, height;     /* negative height: top-down */
  guint32 bpp;
  guint32 compression;      /* 0 RGB, 1 RLE8, 3 BITFIELDS */
  guint32 colours;          /* palette entries */
} BmpSpec;

/* A BMP as SPEC says; RLE8 is only drawn for 3x2. */
static GByteArray *
build_bmp(const BmpSpec *s)
{
  static const guint8 rle8[] = { 3, 0, 0, 0, 3, 1, 0, 1 };   /* two rows, end of bitmap */
  guint32 masks[4] = { 0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000 };
  if (s->bpp == 16) {
    masks[0] = 0xf800;
    masks[1] = 0x07e0;
    masks[2] = 0x001f;
    masks[3] = 0;
  }
  guint32 mask_bytes = s->hsize == 40 && s->compression == 3 ? 12 : 0;
  guint32 entry = s->hsize == 12 ? 3 : 4;       /* core palettes have no pad byte */
  guint32 offset = 14 + s->hsize + mask_bytes + s->colours * entry;
  guint32 stride = ((guint32)s->width * s->bpp + 31) / 32 * 4;
  guint32 pixels = s->compression == 1 ? sizeof rle8 : stride * (guint32)ABS(s->height);

  GByteArray *a = g_byte_array_new();
  put8(a, 'B');
  put8(a, 'M');
  put32(a, offset + pixels);
  put32(a, 0);
  put32(a, offset);
  put32(a, s->hsize);
  if (s->hsize == 12) {
    put16(a, s->width);
    put16(a, s->height);
    put16(a, 1);
    put16(a, s->bpp);
  } else {
    put32(a, s->width);
    put32(a, s->height);
    put16(a, 1);
    put16(a, s->bpp);
    put32(a, s->compression);
    put32(a, pixels);
    put32(a, 2835);             /* 72 dpi */
    put32(a, 2835);
    put32(a, s->colours);
    put32(a, 0);
    for (guint i = 0; i < 4 && a->len < 14 + s->hsize; i++)
      put32(a, masks[i]);
    while (a->len < 14 + s->hsize)
      put8(a, 0);
  }
  for (guint i = 0; i < mask_bytes / 4; i++)
    put32(a, masks[i]);
  for (guint i = 0; i < s->colours * entry; i++)
    put8(a, i % entry == 3 ? 0 : i * 40);
  g_assert_cmpuint(a->len, ==, offset);
  if (s->compression == 1)
    g_byte_array_append(a, rle8, sizeof rle8);
  else
    for (guint i = 0; i < pixels; i++)
      put8(a, s->bpp == 8 ? i & 1 : i * 7);   /* 8-bit: indices within the palette */
  return a;
}

/* ---- the valid files --------------------------------------------------------------- */

typedef enum {
  GIF_PLAIN, GIF_EXTENDED, GIF_BIG,
  BMP_24, BMP_32_DOWN, BMP_8, BMP_CORE, BMP_RLE8, BMP_16_MASKS, BMP_1, BMP_BIG,
  N_VALID
} Valid;

static const BmpSpec bmp_specs[] = {
  [BMP_24] = { 40, 3, 2, 24, 0, 0 },
  [BMP_32_DOWN] = { 124, 3, -2, 32, 3, 0 },
  [BMP_8] = { 40, 3, 2, 8, 0, 2 },
  [BMP_CORE] = { 12, 3, 2, 24, 0, 0 },
  [BMP_RLE8] = { 40, 3, 2, 8, 1, 2 },
  [BMP_16_MASKS] = { 40, 3, 2, 16, 3, 0 },
  [BMP_1] = { 40, 3, 2, 1, 0, 2 },
  [BMP_BIG] = { 40, 64, 64, 24, 0, 0 },    /* 12 KiB of pixels */
};

static gboolean
is_gif(Valid v)
{
  return v <= GIF_BIG;
}

static GByteArray *
valid_file(Valid v)
{
  switch (v) {
  case GIF_PLAIN:
    return gif_plain();
  case GIF_EXTENDED:
    return gif_extended();
  case GIF_BIG:
    return gif_big();
  default:
    return build_bmp(&bmp_specs[v]);
  }
}

static CheckFunc
valid_check(Valid v)
{
  return is_gif(v) ? hw_image_check_gif : hw_image_check_bmp;
}

static void
assert_found(const HwImage *im, Valid v, guint64 addr, gsize len)
{
  g_assert_cmpint(im->kind, ==, is_gif(v) ? HW_IMAGE_GIF : HW_IMAGE_BMP);
  g_assert_cmpuint(im->addr, ==, addr);
  g_assert_cmpuint(im->size, ==, len);
  g_assert_cmpuint(im->width, ==, v == BMP_BIG ? 64 : 3);
  g_assert_cmpuint(im->height, ==, v == BMP_BIG ? 64 : 2);
  g_assert_cmpuint(im->stride, ==, 0);
  g_assert_cmpint(im->format, ==, 0);
  g_assert_cmpfloat(im->confidence, ==, 1.0);
}

static void
test_valid(gconstpointer data)
{
  gboolean gif = GPOINTER_TO_INT(data);
  for (Valid v = 0; v < N_VALID; v++) {
    if (is_gif(v) != gif)
      continue;
    g_autoptr(GByteArray) file = valid_file(v);
    /* Inside garbage, across a page end, and ending where readable memory ends. */
    const gsize offs[] = { 100, PAGE - 7, 2 * PAGE + 3 };
    for (gsize i = 0; i < G_N_ELEMENTS(offs); i++) {
      g_autoptr(Mem) m = mem_new(offs[i] + file->len + PAGE);
      HwImage im;
      g_assert_true(check_in(m, offs[i], file, valid_check(v), &im));
      assert_found(&im, v, BASE + offs[i], file->len);
      /* The other format's check refuses it. */
      CheckFunc other = gif ? hw_image_check_bmp : hw_image_check_gif;
      g_assert_false(check_in(m, offs[i], file, other, &im));
    }
    HwImage im;
    g_assert_true(check_at_end(file, valid_check(v), &im));
    g_assert_cmpuint(im.size, ==, file->len);
  }
}

/* A file across three or four pages: any unreadable one rejects it (even one holding
 * only pixels or comment, which no check looks at); one outside the file does not. */
static void
test_unreadable(gconstpointer data)
{
  Valid v = GPOINTER_TO_INT(data);
  g_autoptr(GByteArray) file = valid_file(v);
  gsize off = 100;
  g_assert_cmpuint(off + file->len, >, 2 * PAGE);
  g_autoptr(Mem) m = mem_new(5 * PAGE);
  HwImage im;
  for (guint page = 0; page < 5; page++) {
    m->fail_page = BASE + page * PAGE;
    gboolean inside = page * PAGE < off + file->len && (page + 1) * PAGE > off;
    g_assert_cmpint(check_in(m, off, file, valid_check(v), &im), ==, !inside);
  }
}

/* The reader's budget: the check reads each page it walks once (a GIF's every page, a
 * BMP's first, which holds its headers), then the decoder copies the file's bytes once;
 * one byte less than that rejects it. */
static void
test_budget(void)
{
  for (Valid v = 0; v < N_VALID; v++) {
    g_autoptr(GByteArray) file = valid_file(v);
    g_autoptr(Mem) m = mem_new(file->len + 2 * PAGE);
    memcpy(m->data + 100, file->data, file->len);
    gint64 pages = is_gif(v) ? (100 + file->len + PAGE - 1) / PAGE : 1;
    gint64 budget = pages * PAGE + file->len - 1;
    HwReader r = { mem_read, m, &budget };
    HwImage im;
    g_assert_false(valid_check(v)(&r, BASE + 100, &im));
    budget = pages * PAGE + file->len;
    g_assert_true(valid_check(v)(&r, BASE + 100, &im));
    g_assert_cmpint(budget, ==, 0);
  }
}

/* Every shorter prefix, ending where readable memory ends, is rejected. */
static void
test_truncated(gconstpointer data)
{
  gboolean gif = GPOINTER_TO_INT(data);
  for (Valid v = 0; v < N_VALID; v++) {
    if (is_gif(v) != gif || v == GIF_BIG || v == BMP_BIG)
      continue;
    g_autoptr(GByteArray) file = valid_file(v);
    for (guint len = 0; len < file->len; len++) {
      g_autoptr(GByteArray) cut = g_byte_array_new();
      g_byte_array_append(cut, file->data, len);
      HwImage im;
      if (check_at_end(cut, valid_check(v), &im))
        g_error("%s %u truncated to %u bytes was accepted", gif ? "gif" : "bmp", v, len);
    }
  }
}

/* ---- corruptions ------------------------------------------------------------------- */

typedef struct {
  const char *what;
  Valid file;
  guint bytes;              /* bytes of VALUE written little-endian at AT; 0: cut to AT */
  gsize at;
  guint32 value;
} Corrupt;

/* GIF_PLAIN: 0 header, 6 width, 8 height, 10 flags, 13 global table, 19 image
 * separator, 20 left, 22 top, 24 width, 26 height, 28 flags, 29 LZW size, 30 first
 * sub-block length, 35 terminator, 36 trailer. */
static const Corrupt gif_bad[] = {
  { "cut in the header", GIF_PLAIN, 0, 10, 0 },
  { "cut in the image data", GIF_PLAIN, 0, 33, 0 },
  { "missing trailer", GIF_PLAIN, 0, 36, 0 },
  { "version GIF88a", GIF_PLAIN, 1, 4, '8' },
  { "version GIF89b", GIF_PLAIN, 1, 5, 'b' },
  { "signature gif", GIF_PLAIN, 1, 0, 'g' },
  { "zero width", GIF_PLAIN, 2, 6, 0 },
  { "zero height", GIF_PLAIN, 2, 8, 0 },
  { "unknown block byte", GIF_PLAIN, 1, 19, 0x2d },
  { "zero block byte", GIF_PLAIN, 1, 19, 0 },
  { "trailer without an image", GIF_PLAIN, 1, 19, 0x3b },
  { "image left of the screen edge", GIF_PLAIN, 2, 20, 1 },
  { "image below the screen", GIF_PLAIN, 2, 22, 1 },
  { "image wider than the screen", GIF_PLAIN, 2, 24, 4 },
  { "image of zero height", GIF_PLAIN, 2, 26, 0 },
  { "LZW code size 1", GIF_PLAIN, 1, 29, 1 },
  { "LZW code size 9", GIF_PLAIN, 1, 29, 9 },
  { "global table past the end", GIF_PLAIN, 1, 10, 0x87 },
  { "local table past the end", GIF_PLAIN, 1, 28, 0x87 },
  { "sub-block past the end", GIF_PLAIN, 1, 30, 0xff },
  { "unterminated sub-blocks", GIF_PLAIN, 1, 35, 1 },
  { "extension cut after its introducer", GIF_EXTENDED, 0, 20, 0 },
  { "cut in a comment", GIF_EXTENDED, 0, 200, 0 },
  { "no trailer after a comment", GIF_EXTENDED, 0, 315, 0 },
};

/* BMP_24: 2 file size, 6 reserved, 10 pixel offset, 14 header size, 18 width,
 * 22 height, 26 planes, 28 bpp, 30 compression, 34 image size; 78 bytes. */
static const Corrupt bmp_bad[] = {
  { "cut in the pixels", BMP_24, 0, 70, 0 },
  { "cut in the header", BMP_24, 0, 20, 0 },
  { "signature BN", BMP_24, 1, 1, 'N' },
  { "header size 64", BMP_24, 4, 14, 64 },
  { "header size 0", BMP_24, 4, 14, 0 },
  { "header size 41", BMP_24, 4, 14, 41 },
  { "planes 2", BMP_24, 2, 26, 2 },
  { "planes 0", BMP_24, 2, 26, 0 },
  { "bpp 7", BMP_24, 2, 28, 7 },
  { "bpp 0", BMP_24, 2, 28, 0 },
  { "RLE8 with 24 bpp", BMP_24, 4, 30, 1 },
  { "RLE4 with 24 bpp", BMP_24, 4, 30, 2 },
  { "BITFIELDS with 24 bpp", BMP_24, 4, 30, 3 },
  { "compression 4 (JPEG)", BMP_24, 4, 30, 4 },
  { "pixel offset at the file size", BMP_24, 4, 10, 78 },
  { "pixel offset beyond the file size", BMP_24, 4, 10, 1000 },
  { "pixel offset inside the header", BMP_24, 4, 10, 40 },
  { "file too small for the pixels", BMP_24, 4, 2, 77 },
  { "file size over 256 MiB", BMP_24, 4, 2, 256 * MiB + 1 },
  { "file size 4 GiB - 1", BMP_24, 4, 2, G_MAXUINT32 },
  { "width 0", BMP_24, 4, 18, 0 },
  { "width -3", BMP_24, 4, 18, (guint32)-3 },
  { "width 65536", BMP_24, 4, 18, 65536 },
  { "height 0", BMP_24, 4, 22, 0 },
  { "height -65536", BMP_24, 4, 22, (guint32)-65536 },
  { "height INT32_MIN", BMP_24, 4, 22, 0x80000000u },
  { "image size past the end", BMP_24, 4, 34, 25 },
  { "RLE8 top-down", BMP_RLE8, 4, 22, (guint32)-2 },
  { "RLE8 without an image size", BMP_RLE8, 4, 34, 0 },
  { "RLE4 with 8 bpp", BMP_RLE8, 4, 30, 2 },
  { "BITFIELDS with 24 bpp, V5 header", BMP_32_DOWN, 2, 28, 24 },
  { "pixels over the colour masks", BMP_16_MASKS, 4, 10, 54 },
  { "core width 0", BMP_CORE, 2, 18, 0 },
  { "core planes 0", BMP_CORE, 2, 22, 0 },
  { "core bpp 7", BMP_CORE, 2, 24, 7 },
  { "core pixels cut", BMP_CORE, 0, 49, 0 },
};

static void
test_corrupt(gconstpointer data)
{
  gboolean gif = GPOINTER_TO_INT(data);
  const Corrupt *table = gif ? gif_bad : bmp_bad;
  gsize n = gif ? G_N_ELEMENTS(gif_bad) : G_N_ELEMENTS(bmp_bad);
  for (gsize i = 0; i < n; i++) {
    const Corrupt *c = &table[i];
    g_autoptr(GByteArray) file = valid_file(c->file);
    if (c->bytes == 0) {
      g_assert_cmpuint(c->at, <, file->len);
      g_byte_array_set_size(file, c->at);
    } else {
      set_le(file, c->at, c->bytes, c->value);
    }
    HwImage im;
    if (check_at_end(file, valid_check(c->file), &im))
      g_error("corrupt %s accepted: %s", gif ? "gif" : "bmp", c->what);
  }
}

/* ---- GIF loop bounds --------------------------------------------------------------- */

/* An image, then EXTENSIONS empty comments, then the trailer: 1 + EXTENSIONS blocks. */
static GByteArray *
gif_many_blocks(guint extensions)
{
  GByteArray *a = gif_start("GIF89a");
  gif_image(a, FALSE);
  for (guint i = 0; i < extensions; i++)
    gif_comment(a, 0);
  put8(a, 0x3b);
  return a;
}

static void
test_gif_block_limit(void)
{
  HwImage im;
  g_autoptr(GByteArray) most = gif_many_blocks(65535);
  g_assert_true(check_at_end(most, hw_image_check_gif, &im));
  g_assert_cmpuint(im.size, ==, most->len);
  g_autoptr(GByteArray) over = gif_many_blocks(65536);
  g_assert_false(check_at_end(over, hw_image_check_gif, &im));
}

/* Memory holding a 1x1 GIF whose image data never ends: full sub-blocks forever. */
typedef struct {
  guint64 served;           /* bytes read so far */
} Endless;

#define ENDLESS_HEAD 24     /* header, screen, image descriptor, LZW size */

static gboolean
endless_read(gpointer ctx, guint64 addr, void *buf, gsize len)
{
  static const guint8 head[ENDLESS_HEAD] = {
    'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0,
    0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2,
  };
  Endless *e = ctx;
  if (addr < BASE || addr - BASE > 1024 * MiB)
    return FALSE;
  e->served += len;
  guint8 *out = buf;
  guint64 off = addr - BASE;
  memset(out, 'x', len);
  for (gsize i = 0; i < len && off + i < ENDLESS_HEAD; i++)
    out[i] = head[off + i];
  /* Sub-block length bytes at ENDLESS_HEAD + 256 k. */
  guint64 first = off <= ENDLESS_HEAD ? ENDLESS_HEAD
                                      : ENDLESS_HEAD + (off - ENDLESS_HEAD + 255) / 256 * 256;
  for (guint64 at = first; at < off + len; at += 256)
    out[at - off] = 255;
  return TRUE;
}

static void
test_gif_endless_sub_blocks(void)
{
  Endless e = { 0 };
  HwReader r = { endless_read, &e, NULL };
  HwImage im;
  g_assert_false(hw_image_check_gif(&r, BASE, &im));
  /* It gave up at the 256 MiB cap, not before, and read no more than that. */
  g_assert_cmpuint(e.served, >=, 256 * MiB - PAGE);
  g_assert_cmpuint(e.served, <=, 256 * MiB + PAGE);
}

/* ---- the top of the address space -------------------------------------------------- */

#define TOP_PAGE (G_MAXUINT64 - PAGE + 1)

/* The top page, then address 0 (its page follows in DATA): readable both, but no read
 * runs from one into the other. */
static gboolean
wrap_read(gpointer ctx, guint64 addr, void *buf, gsize len)
{
  const guint8 *data = ctx;
  if (addr >= TOP_PAGE && len <= G_MAXUINT64 - addr + 1)
    memcpy(buf, data + (addr - TOP_PAGE), len);
  else if (addr < PAGE && len <= PAGE - addr)
    memcpy(buf, data + PAGE + addr, len);
  else
    return FALSE;
  return TRUE;
}

/* A file ending on the last byte of the address space is found; one that would go
 * on at address 0 is not. */
static void
test_address_wrap(void)
{
  const Valid files[] = { GIF_EXTENDED, BMP_24 };
  for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
    g_autoptr(GByteArray) file = valid_file(files[i]);
    g_autofree guint8 *data = g_malloc0(2 * PAGE);
    HwReader r = { wrap_read, data, NULL };
    HwImage im;
    memcpy(data + PAGE - file->len, file->data, file->len);
    g_assert_true(valid_check(files[i])(&r, G_MAXUINT64 - file->len + 1, &im));
    g_assert_cmpuint(im.size, ==, file->len);
    /* Ten bytes later the file's last ten bytes lie at address 0. */
    memset(data, 0, 2 * PAGE);
    memcpy(data + PAGE - file->len + 10, file->data, file->len);
    g_assert_false(valid_check(files[i])(&r, G_MAXUINT64 - file->len + 11, &im));
  }
}

/* ---- random mutations -------------------------------------------------------------- */

static void
test_mutations(void)
{
  GByteArray *files[N_VALID];
  for (Valid v = 0; v < N_VALID; v++)
    files[v] = valid_file(v);
  guint accepted = 0;
  for (guint round = 0; round < 2000; round++) {
    Valid v = g_test_rand_int_range(0, N_VALID);
    g_autoptr(GByteArray) file = g_byte_array_new();
    g_byte_array_append(file, files[v]->data, files[v]->len);
    guint changes = g_test_rand_int_range(1, 5);
    for (guint i = 0; i < changes; i++) {
      /* Mostly in the headers, where the checks look hardest. */
      guint span = g_test_rand_bit() ? MIN(file->len, 64) : file->len;
      file->data[g_test_rand_int_range(0, span)] = g_test_rand_int_range(0, 256);
    }
    if (g_test_rand_int_range(0, 10) == 0)
      g_byte_array_set_size(file, g_test_rand_int_range(1, file->len + 1));
    g_autoptr(Mem) m = mem_new(file->len + 2 * PAGE);
    gsize off = g_test_rand_bit() ? m->len - file->len
                                  : (gsize)g_test_rand_int_range(0, m->len - file->len + 1);
    const CheckFunc checks[] = { hw_image_check_gif, hw_image_check_bmp };
    for (guint k = 0; k < G_N_ELEMENTS(checks); k++) {
      HwImage im;
      if (!check_in(m, off, file, checks[k], &im))
        continue;
      accepted++;
      g_assert_cmpint(im.kind, ==, k == 0 ? HW_IMAGE_GIF : HW_IMAGE_BMP);
      g_assert_cmpuint(im.addr, ==, BASE + off);
      g_assert_cmpuint(im.size, >=, 1);
      g_assert_cmpuint(im.size, <=, m->len - off);
      g_assert_cmpuint(im.width, >=, 1);
      g_assert_cmpuint(im.width, <=, 65535);
      g_assert_cmpuint(im.height, >=, 1);
      g_assert_cmpuint(im.height, <=, 65535);
    }
  }
  g_test_message("%u of 2000 mutated files accepted", accepted);
  for (Valid v = 0; v < N_VALID; v++)
    g_byte_array_unref(files[v]);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_data_func("/scan/gif/valid", GINT_TO_POINTER(TRUE), test_valid);
  g_test_add_data_func("/scan/gif/unreadable-page", GINT_TO_POINTER(GIF_BIG), test_unreadable);
  g_test_add_data_func("/scan/gif/truncated", GINT_TO_POINTER(TRUE), test_truncated);
  g_test_add_data_func("/scan/gif/corrupt", GINT_TO_POINTER(TRUE), test_corrupt);
  g_test_add_func("/scan/gif/block-limit", test_gif_block_limit);
  g_test_add_func("/scan/gif/endless-sub-blocks", test_gif_endless_sub_blocks);
  g_test_add_data_func("/scan/bmp/valid", GINT_TO_POINTER(FALSE), test_valid);
  g_test_add_data_func("/scan/bmp/unreadable-page", GINT_TO_POINTER(BMP_BIG), test_unreadable);
  g_test_add_data_func("/scan/bmp/truncated", GINT_TO_POINTER(FALSE), test_truncated);
  g_test_add_data_func("/scan/bmp/corrupt", GINT_TO_POINTER(FALSE), test_corrupt);
  g_test_add_func("/scan/gif-bmp/budget", test_budget);
  g_test_add_func("/scan/gif-bmp/address-wrap", test_address_wrap);
  g_test_add_func("/scan/gif-bmp/mutations", test_mutations);
  return g_test_run();
}
