/* Detection-quality benchmark: real pictures written into real non-image memory as raw
 * pixels (every format, many widths, padded rows, any alignment, dithered, periodic) and
 * as encoded files, then found by the scan engine. Reports recall (found with the exact
 * width, stride and format), false raw hits per GiB of real non-image memory, and scan
 * throughput against the all-core read pass over the same memory. Prints "key value"
 * lines; scripts/bench-detect makes the table in docs/performance.md.
 *
 * Usage: bench-detect [OPTION...]   (see --help)
 * The pictures fall in two halves by name: tune the detector on one (--half tune),
 * report on the other (--half report).
 *
 * To study what it finds (on stderr): BENCH_DETECT_MISSES=1 lists the pictures missed
 * and the raw hits over them, BENCH_DETECT_EXPLAIN=1 adds the class of each of their
 * pages, BENCH_DETECT_HITS=1 lists every raw hit with its outcome,
 * BENCH_DETECT_MEASURE=1 lists the cases that measuring alone (given the case's own
 * pages and true format, as if page classification were perfect) gets wrong
 * (BENCH_DETECT_MEASURE_DUMP=DIR writes every case's pages to DIR for offline study), and
 * BENCH_DETECT_PAGES=FILE writes the whole pages of every raw case to FILE (their
 * format, variant and width to FILE.txt) to study page classification offline. */
#include <haywire/haywire.h>
#include "bench-util.h"
#include "detect-corpus.h"
#include "scan/find-raw.h"   /* page classes, for --explain */

#include <string.h>

#define PAGE 4096u
#define BATCH (64u << 20)          /* synthetic memory per scan */
#define MAX_IMAGE (4u << 20)       /* raw image bytes at most */

static const guint widths[] = { 32, 33, 47, 64, 97, 100, 127, 128, 160, 199, 256, 300, 317,
                                480, 500, 640, 800, 1000, 1023, 1024, 1280, 1366, 1600, 1920,
                                2048, 2560, 3840, 4096 };
static const HwPixelFormat formats[] = { HW_PIXEL_RGB888, HW_PIXEL_BGR888, HW_PIXEL_RGBA8888,
                                         HW_PIXEL_BGRA8888, HW_PIXEL_XRGB8888, HW_PIXEL_RGB565,
                                         HW_PIXEL_GRAY8 };

/* Formats that no statistics can tell apart (red and blue swapped, alpha order). */
static guint
format_class(HwPixelFormat f)
{
  switch (f) {
  case HW_PIXEL_RGB888:
  case HW_PIXEL_BGR888:
    return 1;
  case HW_PIXEL_RGBA8888:
  case HW_PIXEL_BGRA8888:
    return 2;
  case HW_PIXEL_XRGB8888:
    return 3;
  case HW_PIXEL_RGB565:
    return 4;
  case HW_PIXEL_GRAY8:
    return 5;
  default:
    return 0;
  }
}

/* One image placed in a batch. */
typedef struct {
  gboolean encoded;
  guint enc;                 /* encoded: index into corpus_encoding_names */
  HwPixelFormat format;
  guint width, height;
  gsize stride;
  guint64 gpa;               /* first byte */
  gsize size;
  const char *variant;       /* "plain", "padded", "dithered", "periodic", ... */
  const char *source;        /* the picture's: "background", "icon", "figure" */
  gboolean found, seen;      /* found exactly; some hit of the same kind overlapped */
  gboolean measured;         /* measured exactly from its own pages (raw) */
} Case;

typedef struct {
  guint total, found, seen, measured;
} Tally;

enum { BY_FORMAT, BY_SIZE, BY_VARIANT, BY_ENCODING, BY_SOURCE, N_GROUPS };

static GHashTable *tallies[N_GROUPS];

static void
tally(guint group, const char *key, const Case *c)
{
  Tally *t = g_hash_table_lookup(tallies[group], key);
  if (t == NULL) {
    t = g_new0(Tally, 1);
    g_hash_table_insert(tallies[group], g_strdup(key), t);
  }
  t->total++;
  t->found += c->found;
  t->seen += c->seen;
  t->measured += c->measured;
}

static const char *
size_class(gsize bytes)
{
  return bytes < 8192 ? "under-8k" : bytes < 65536 ? "8k-64k" : bytes < (1u << 20) ? "64k-1m"
                                                                                     : "1m-up";
}

/* Fill W x H RGBA with a tiled copy of a TW x TH crop of P and a window of Q over a
 * fifth of it: periodic content whose true width only the window shows. */
static guint8 *
make_periodic(GRand *rng, const Picture *p, const Picture *q, guint w, guint h)
{
  guint tw = (guint)g_rand_int_range(rng, 8, (gint)MAX(9u, w / 3));
  guint th = (guint)g_rand_int_range(rng, 8, 65);
  g_autofree guint8 *tile = picture_resize(p, tw, th);
  guint8 *out = g_malloc((gsize)w * h * 4);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      memcpy(out + ((gsize)y * w + x) * 4, tile + ((gsize)(y % th) * tw + x % tw) * 4, 4);
  guint ww = MAX(w / 2, 1u), wh = MAX(h * 2 / 5, 1u);
  g_autofree guint8 *win = picture_resize(q, ww, wh);
  guint x0 = (guint)g_rand_int_range(rng, 0, (gint)(w - ww + 1));
  guint y0 = (guint)g_rand_int_range(rng, 0, (gint)(h - wh + 1));
  for (guint y = 0; y < wh; y++)
    memcpy(out + ((gsize)(y0 + y) * w + x0) * 4, win + (gsize)y * ww * 4, (gsize)ww * 4);
  return out;
}

/* Dither the RGBA pixels: MODE 1 one channel alternates 200/40 by pixel and row
 * (the channel carries no picture), 2 noise of +-10 on every channel. */
static void
dither(GRand *rng, guint8 *rgba, guint w, guint h, guint mode)
{
  guint ch = (guint)g_rand_int_range(rng, 0, 3);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++) {
      guint8 *px = rgba + ((gsize)y * w + x) * 4;
      if (mode == 1)
        px[ch] = (x + y) & 1 ? 200 : 40;
      else
        for (guint c = 0; c < 3; c++)
          px[c] = (guint8)CLAMP((int)px[c] + g_rand_int_range(rng, -10, 11), 0, 255);
    }
}

/* Make one raw case: pixels into *DATA (caller frees), the case filled in but gpa. */
static guint8 *
raw_case(GRand *rng, GPtrArray *pics, Case *c, guint *padding_zero)
{
  c->format = formats[g_rand_int_range(rng, 0, G_N_ELEMENTS(formats))];
  guint bpp = hw_pixel_format_bits(c->format) / 8;
  c->width = widths[g_rand_int_range(rng, 0, G_N_ELEMENTS(widths))];
  /* A picture at least this wide: scaled down, never blown up into blocks of equal
   * pixels, which no real bitmap is. */
  const Picture *p = NULL;
  for (guint tries = 0; tries < 1000 && (p == NULL || p->width < c->width); tries++)
    p = g_ptr_array_index(pics, g_rand_int_range(rng, 0, (gint)pics->len));
  c->source = p->source;
  gsize packed = (gsize)c->width * bpp;
  guint pad = (guint)g_rand_int_range(rng, 0, 4);
  c->variant = "plain";
  c->stride = packed;
  if (pad == 1) {
    c->stride = (packed + 3) & ~(gsize)3;   /* rows on 4 bytes, as BMP and X11 keep them */
    if (c->stride != packed)
      c->variant = "padded";
  } else if (pad == 2) {
    c->stride = ((packed + 63) & ~(gsize)63) + 16 * (gsize)g_rand_int_range(rng, 0, 9);
    c->variant = "padded";
  }
  /* The picture at this width, but no taller than 4096 rows (tall, narrow pictures). */
  guint rows_full = (guint)CLAMP((guint64)p->height * c->width / p->width, 8u, 4096u);
  guint rows_cap = (guint)MAX(MAX_IMAGE / c->stride, 8u);
  c->height = MIN(rows_full, rows_cap);
  if (g_rand_int_range(rng, 0, 4) == 0) {
    guint short_rows = (guint)g_rand_int_range(rng, 8, 65);   /* MIN evaluates twice */
    c->height = MIN(short_rows, rows_full);
  }
  c->size = c->stride * (c->height - 1) + packed;
  g_autofree guint8 *rgba = NULL;
  guint kind = (guint)g_rand_int_range(rng, 0, 10);
  if (kind == 0 && c->width >= 64) {
    const Picture *q = g_ptr_array_index(pics, g_rand_int_range(rng, 0, (gint)pics->len));
    rgba = make_periodic(rng, p, q, c->width, c->height);
    c->variant = "periodic";
  } else {
    /* A crop of the picture at this width: its middle rows. */
    g_autofree guint8 *all = picture_resize(p, c->width, rows_full);
    guint y0 = (rows_full - c->height) / 2;
    rgba = g_memdup2(all + (gsize)y0 * c->width * 4, (gsize)c->width * c->height * 4);
    if (kind <= 2) {
      dither(rng, rgba, c->width, c->height, kind);
      c->variant = kind == 1 ? "dithered-channel" : "noisy";
    }
  }
  guint8 *data = g_malloc0(c->size);
  *padding_zero = g_rand_boolean(rng);
  pixels_write(c->format, rgba, c->width, c->height, data, c->stride);
  return data;
}

/* Make one encoded case. */
static guint8 *
encoded_case(GRand *rng, GPtrArray *pics, Case *c)
{
  const Picture *p = g_ptr_array_index(pics, g_rand_int_range(rng, 0, (gint)pics->len));
  c->source = p->source;
  c->encoded = TRUE;
  c->enc = (guint)g_rand_int_range(rng, 0, CORPUS_N_ENCODINGS);
  c->width = (guint)g_rand_int_range(rng, 16, 801);
  c->height = (guint)MIN(MAX((guint64)p->height * c->width / p->width, 8u), 800u);
  c->variant = corpus_encoding_names[c->enc];
  g_autofree guint8 *rgba = picture_resize(p, c->width, c->height);
  return picture_encode(c->enc, rgba, c->width, c->height, &c->size);
}

/* For misses: the raw hits over case C. */
static void
explain(GArray *hits, const Case *c)
{
  for (guint i = 0; i < hits->len; i++) {
    const HwScanHit *h = &g_array_index(hits, HwScanHit, i);
    if (h->kind == HW_HIT_IMAGE && h->image.kind == HW_IMAGE_RAW && h->gpa < c->gpa + c->size &&
        h->gpa + h->image.size > c->gpa)
      fprintf(stderr, "  hit 0x%" G_GINT64_MODIFIER "x %ux%u stride %u %s conf %.2f\n", h->gpa,
              h->image.width, h->image.height, h->image.stride,
              hw_pixel_format_name(h->image.format), h->image.confidence);
  }
}

static gboolean
overlaps_half(const HwScanHit *h, const Case *c)
{
  guint64 a = MAX(h->gpa, c->gpa), b = MIN(h->gpa + h->image.size, c->gpa + c->size);
  return b > a && (b - a) * 2 >= c->size;
}

/* Raw hits by the confidence they report, in tenths: how many were exact (the width,
 * stride and format family of the picture under them), over a picture but wrong, or
 * over no picture (in a batch, and in the non-image memory alone). */
enum { CAL_EXACT, CAL_WRONG, CAL_FALSE, CAL_DENSE, CAL_N };
static guint calibration[11][CAL_N];

static void
calibrate(const HwScanHit *h, guint outcome)
{
  calibration[CLAMP((gint)(h->image.confidence * 10), 0, 10)][outcome]++;
  if (g_getenv("BENCH_DETECT_HITS"))
    fprintf(stderr, "rawhit 0x%" G_GINT64_MODIFIER "x %u %.3f %u %u %u %s\n", h->gpa, outcome,
            h->image.confidence,
            h->image.width, h->image.height, h->image.stride,
            hw_pixel_format_name(h->image.format));
}

/* Hits and cases of one batch, both sorted by address: mark what was found; count the
 * raw hits over no image. */
static guint
match(GArray *hits, Case *cases, guint n_cases)
{
  guint false_raw = 0;
  for (guint i = 0; i < hits->len; i++) {
    const HwScanHit *h = &g_array_index(hits, HwScanHit, i);
    if (h->kind != HW_HIT_IMAGE)
      continue;
    gboolean any = FALSE, exact = FALSE;
    for (guint k = 0; k < n_cases; k++) {
      Case *c = &cases[k];
      if (h->gpa >= c->gpa + c->size || h->gpa + MAX(h->image.size, 1) <= c->gpa)
        continue;
      any = TRUE;
      if (c->encoded) {
        if (strcmp(hw_image_kind_name(h->image.kind), corpus_encoding_names[c->enc]) == 0) {
          c->seen = TRUE;
          c->found |= h->gpa == c->gpa;
        }
      } else if (h->image.kind == HW_IMAGE_RAW) {
        c->seen = TRUE;
        gboolean hit = h->image.width == c->width && h->image.stride == c->stride &&
                       format_class(h->image.format) == format_class(c->format) &&
                       overlaps_half(h, c);
        c->found |= hit;
        exact |= hit;
      }
    }
    if (h->image.kind == HW_IMAGE_RAW)
      calibrate(h, exact ? CAL_EXACT : any ? CAL_WRONG : CAL_FALSE);
    if (!any && h->image.kind == HW_IMAGE_RAW)
      false_raw++;
  }
  return false_raw;
}

static guint partial_scans;   /* scans that said their result may be partial */

/* Measuring alone, as if page classification were perfect: case C's whole pages, read
 * through R (its batch), given to the raw measure with the true format. Whether it
 * measured exactly; the wrong measure on stderr with BENCH_DETECT_MEASURE=1. */
static gboolean
measure_only(const HwReader *r, const Case *c, const guint8 *batch)
{
  static guint dumped;
  guint64 lo = (c->gpa + PAGE - 1) / PAGE * PAGE, hi = (c->gpa + c->size) / PAGE * PAGE;
  HwImage im;
  gboolean got = hi > lo && hw_raw_measure(r, lo, hi - lo, c->format, &im);
  gboolean exact = got && im.width == c->width && im.stride == c->stride &&
                   im.addr < c->gpa + c->size && im.addr + im.size > c->gpa;
  if (!exact && g_getenv("BENCH_DETECT_MEASURE")) {
    fprintf(stderr, "measure: %s %ux%u stride %zu %s at 0x%" G_GINT64_MODIFIER "x -> ",
            hw_pixel_format_name(c->format), c->width, c->height, c->stride, c->variant, c->gpa);
    if (got)
      fprintf(stderr, "%ux%u stride %u at 0x%" G_GINT64_MODIFIER "x\n", im.width, im.height,
              im.stride, im.addr);
    else
      fprintf(stderr, "nothing\n");
  }
  /* With BENCH_DETECT_MEASURE_DUMP=DIR, every case's pages and one page either side go
   * to DIR/N-FORMAT-WIDTH-STRIDE-OFFSET-EXACT.bin (OFFSET: where the picture starts from
   * the first whole page; EXACT: 1 or 0), to study measuring offline. */
  const char *dir = g_getenv("BENCH_DETECT_MEASURE_DUMP");
  if (dir && hi > lo && lo >= PAGE && hi + PAGE <= BATCH) {
    g_autofree char *name = g_strdup_printf("%s/%04u-%s-%u-%zu-%" G_GINT64_FORMAT "-%d.bin", dir,
                                            dumped++, hw_pixel_format_name(c->format), c->width,
                                            c->stride, (gint64)c->gpa - (gint64)lo, exact);
    g_file_set_contents(name, (const char *)batch + lo - PAGE, (gssize)(hi - lo + 2 * PAGE), NULL);
  }
  return exact;
}

static GArray *
scan(const guint8 *data, gsize size, double *seconds, double *baseline)
{
  HwRamRange range = { .gpa = 0, .size = size };
  g_autoptr(GError) error = NULL;
  g_autoptr(HwPhysMem) mem = hw_physmem_new_from_data(data, size, &range, 1, &error);
  if (!mem)
    bench_die("memory", error);
  double t0 = bench_now();
  gboolean partial = FALSE;
  GArray *hits = hw_scan_phys(mem, NULL, (1u << HW_IMAGE_N_KINDS) - 1, 0, NULL, NULL, &partial,
                              &error);
  /* A scan that ran out of its read budget left things unmeasured: the figures would
   * be about the budget, not the finders. */
  partial_scans += partial;
  if (seconds)
    *seconds = bench_now() - t0;
  if (!hits)
    bench_die("scan", error);
  if (baseline) {
    guint64 sink = 0;
    *baseline = 1e9;
    for (int rep = 0; rep < 3; rep++)
      *baseline = MIN(*baseline, bench_allcore_read(mem, &sink));
  }
  return hits;
}

static void
print_group(const char *title, guint group)
{
  g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(tallies[group]),
                                      (GCompareFunc)strcmp);
  for (GList *k = keys; k; k = k->next) {
    const Tally *t = g_hash_table_lookup(tallies[group], k->data);
    printf("recall_%s_%s %.3f %u/%u (overlapped by a hit of its kind: %u", title,
           (char *)k->data, t->total ? (double)t->found / t->total : 0, t->found, t->total,
           t->seen);
    if (group != BY_ENCODING)
      printf("; measured exactly from its own pages: %u", t->measured);
    printf(")\n");
  }
}

/* The pages of a memory file (its first byte at guest-physical RAM_BASE) that the test
 * guest's own images use, by TRUTH_FILE (as hwtest prints them: pa=, grad_pa= and pas=
 * lists, grad_pas= for every page of the gradient), so the precision count sees only
 * non-image memory. A set of page numbers. */
static GHashTable *
truth_pages(const char *truth_file, guint64 ram_base)
{
  GHashTable *set = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  g_autofree char *text = NULL;
  if (truth_file == NULL || !g_file_get_contents(truth_file, &text, NULL, NULL))
    return set;
  for (const char *p = text; (p = strstr(p, "0x")) != NULL; p += 2) {
    guint64 pa = g_ascii_strtoull(p, NULL, 16);
    if (pa < ram_base)
      continue;   /* a virtual address, or below this guest's RAM */
    /* Pages of the memory file: the gradient spans four pages, the bitmap's are listed. */
    for (int k = 0; k < 4; k++) {
      gint64 *q = g_new(gint64, 1);
      *q = (gint64)((pa - ram_base) / PAGE) + k;
      g_hash_table_add(set, q);
    }
  }
  return set;
}

/* Whether byte OFFSET of the file at PATH lies inside a GdkPixdata picture (raw RGBA or
 * RGB pixels behind a "GdkP" header, as GTK 3 keeps its built-in images): a hit there is
 * a picture, not a false hit. */
static gboolean
in_pixdata(const char *path, guint64 offset)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, NULL) || offset >= len)
    return FALSE;
  /* The nearest header before OFFSET, within the largest picture we would count. */
  for (guint64 at = offset + 1; at-- > 0 && offset - at < (16u << 20);) {
    if (at + 24 > len || memcmp(data + at, "GdkP", 4) != 0)
      continue;
    guint32 total;
    memcpy(&total, data + at + 4, 4);   /* big-endian, at any alignment */
    return offset < at + GUINT32_FROM_BE(total);
  }
  return FALSE;
}

int
main(int argc, char **argv)
{
  g_set_prgname("bench-detect");
  g_auto(GStrv) ram = NULL, fillers = NULL, picture_dirs = NULL, truths = NULL;
  g_auto(GStrv) ram_bases = NULL;
  g_autofree char *half_name = NULL;
  g_autofree char *dense_file = NULL;
  gboolean dense_only = FALSE;
  gint cases_wanted = 600, encoded_wanted = 150, per_dir = 40, seed = 1, filler_mib = 1024;
  GOptionEntry entries[] = {
    { "ram", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &ram, "memory file of a booted guest "
      "(repeatable)", "FILE" },
    { "ram-base", 0, 0, G_OPTION_ARG_STRING_ARRAY, &ram_bases, "guest-physical address of "
      "the first byte of the matching --ram file (0x40000000 on arm64 virt; default 0)",
      "ADDR" },
    { "truth", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &truths, "the test program's lines for a "
      "--ram file: its image pages are left out (repeatable)", "FILE" },
    { "filler", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &fillers, "directory of non-image files "
      "used as page cache (repeatable)", "DIR" },
    { "filler-mib", 0, 0, G_OPTION_ARG_INT, &filler_mib, "MiB of filler (default 1024)", "N" },
    { "pictures", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &picture_dirs, "directory of pictures "
      "(.webp, .png, .jpg; repeatable)", "DIR" },
    { "per-dir", 0, 0, G_OPTION_ARG_INT, &per_dir, "pictures per directory (default 40)", "N" },
    { "half", 0, 0, G_OPTION_ARG_STRING, &half_name, "tune, report or all (default report)",
      "HALF" },
    { "cases", 0, 0, G_OPTION_ARG_INT, &cases_wanted, "raw cases (default 600)", "N" },
    { "encoded", 0, 0, G_OPTION_ARG_INT, &encoded_wanted, "encoded cases (default 150)", "N" },
    { "dense-only", 0, 0, G_OPTION_ARG_NONE, &dense_only, "only the non-image memory: "
      "false hits and throughput", NULL },
    { "save-dense", 0, 0, G_OPTION_ARG_FILENAME, &dense_file, "write the non-image memory "
      "to FILE (to profile the scan on it)", "FILE" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "random seed (default 1)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("- image detection quality");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "bench-detect: %s\n", error->message);
    return 2;
  }
  int half = -1;   /* all */
  if (half_name == NULL || strcmp(half_name, "report") == 0)
    half = 1;
  else if (strcmp(half_name, "tune") == 0)
    half = 0;
  else if (strcmp(half_name, "all") != 0) {
    fprintf(stderr, "bench-detect: --half is tune, report or all\n");
    return 2;
  }
  for (guint g = 0; g < N_GROUPS; g++)
    tallies[g] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

  /* Non-image memory: guest RAM without the test program's images, then filler. */
  gsize n_ram_pages = 0, n_pages;
  {
    GByteArray *pool = g_byte_array_new();
    g_autoptr(GArray) origin = g_array_new(FALSE, FALSE, sizeof(PageOrigin));
    for (guint i = 0; ram && ram[i]; i++) {
      g_autofree char *data = NULL;
      gsize len;
      /* The test program's own image pages, by its truth lines for this file. */
      gboolean have_base = ram_bases && i < g_strv_length(ram_bases);
      guint64 ram_base = have_base ? g_ascii_strtoull(ram_bases[i], NULL, 0) : 0;
      g_autoptr(GHashTable) skip = truth_pages(truths && i < g_strv_length(truths) ? truths[i]
                                                                                : NULL, ram_base);
      if (!g_file_get_contents(ram[i], &data, &len, &error))
        bench_die("ram", error);
      /* The full-RAM scan as issue 13 states it: all of the guest's memory, zero pages
       * included (present, not holes: the scan reads them), against the all-core read
       * pass over the same bytes; best of 3 each. */
      double t_best = 1e9, base = 0;
      for (int rep = 0; rep < 3; rep++) {
        double t;
        g_autoptr(GArray) h = scan((const guint8 *)data, len - len % PAGE, &t,
                                   rep == 2 ? &base : NULL);
        t_best = MIN(t_best, t);
      }
      g_autofree char *name = g_path_get_basename(ram[i]);
      char *dot = strrchr(name, '.');
      if (dot)
        *dot = 0;
      printf("fullram_%s_mib %.0f\n", name, len / 1048576.0);
      printf("fullram_%s_vs_allcore %.3f\n", name, base / t_best);
      for (gsize off = 0; off + PAGE <= len; off += PAGE) {
        gint64 pn = (gint64)(off / PAGE);
        const guint8 *pg = (const guint8 *)data + off;
        gboolean zero = TRUE;
        for (guint k = 0; k < PAGE && zero; k++)
          zero = pg[k] == 0;
        if (!zero && !g_hash_table_contains(skip, &pn)) {
          g_byte_array_append(pool, pg, PAGE);
          g_array_append_val(origin, ((PageOrigin){ ram[i], off }));
        }
      }
    }
    n_ram_pages = pool->len / PAGE;
    gsize n_fill = 0;
    g_autoptr(GArray) fill_origin = NULL;
    g_autoptr(GPtrArray) fill_paths = NULL;
    g_autofree guint8 *fill = corpus_load_pages(fillers, (guint64)filler_mib << 20, &n_fill,
                                                &fill_origin, &fill_paths);
    g_byte_array_append(pool, fill, (guint)(n_fill * PAGE));
    g_array_append_vals(origin, fill_origin->data, fill_origin->len);
    /* Each distinct page once: libraries come in several copies, and a page seen
     * thirteen times is one piece of evidence, not thirteen. */
    {
      g_autoptr(GHashTable) seen = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
                                                         (GDestroyNotify)g_bytes_unref, NULL);
      gsize kept = 0;
      for (gsize i = 0; i < pool->len / PAGE; i++) {
        GBytes *b = g_bytes_new(pool->data + i * PAGE, PAGE);
        if (g_hash_table_contains(seen, b)) {
          g_bytes_unref(b);
          if (i < n_ram_pages)
            n_ram_pages--;
          continue;
        }
        g_hash_table_add(seen, b);
        memmove(pool->data + kept * PAGE, pool->data + i * PAGE, PAGE);
        g_array_index(origin, PageOrigin, kept) = g_array_index(origin, PageOrigin, i);
        kept++;
      }
      g_byte_array_set_size(pool, (guint)(kept * PAGE));
    }
    n_pages = pool->len / PAGE;
    guint8 *pages = g_byte_array_free(pool, FALSE);

    FILE *pages_out = g_getenv("BENCH_DETECT_PAGES") ? fopen(g_getenv("BENCH_DETECT_PAGES"), "wb")
                                                    : NULL;
    g_autofree char *info_name = pages_out ? g_strconcat(g_getenv("BENCH_DETECT_PAGES"),
                                                         ".txt", NULL) : NULL;
    FILE *pages_info = info_name ? fopen(info_name, "w") : NULL;
    if (dense_file && !g_file_set_contents(dense_file, (const char *)pages,
                                           (gssize)(n_pages * PAGE), &error))
      bench_die("--save-dense", error);
    /* Precision and throughput: the non-image memory alone (the scan best of 3). */
    double t, base;
    g_autoptr(GArray) hits = scan(pages, n_pages * PAGE, &t, &base);
    for (int rep = 0; rep < 2; rep++) {
      double again;
      g_autoptr(GArray) more = scan(pages, n_pages * PAGE, &again, NULL);
      t = MIN(t, again);
    }
    guint raw = 0, encoded = 0, pixdata = 0;
    for (guint i = 0; i < hits->len; i++) {
      const HwScanHit *h = &g_array_index(hits, HwScanHit, i);
      if (h->kind != HW_HIT_IMAGE)
        continue;
      if (h->image.kind == HW_IMAGE_RAW) {
        /* Where its first byte came from: to tell a table from a picture kept in a file. */
        const PageOrigin *o = &g_array_index(origin, PageOrigin, MIN(h->gpa / PAGE, n_pages - 1));
        guint64 file_off = o->offset + h->gpa % PAGE;
        if (h->gpa >= n_ram_pages * PAGE && in_pixdata(o->path, file_off)) {
          pixdata++;
          fprintf(stderr, "raw hit in a library's GdkPixdata picture: %s+0x%" G_GINT64_MODIFIER
                  "x %ux%u stride %u %s\n", o->path, file_off, h->image.width, h->image.height,
                  h->image.stride, hw_pixel_format_name(h->image.format));
          continue;
        }
        raw++;
        calibrate(h, CAL_DENSE);
        fprintf(stderr, "false raw hit: 0x%" G_GINT64_MODIFIER "x (%s %s+0x%" G_GINT64_MODIFIER
                "x) %ux%u stride %u %s confidence %.3f\n", h->gpa,
                h->gpa < n_ram_pages * PAGE ? "guest RAM" : "filler", o->path,
                file_off, h->image.width, h->image.height, h->image.stride,
                hw_pixel_format_name(h->image.format), h->image.confidence);
      } else {
        encoded++;
      }
    }
    double gib = (double)(n_pages * PAGE) / (1u << 30);
    printf("nonimage_guest_mib %.1f\n", n_ram_pages * PAGE / 1048576.0);
    printf("nonimage_filler_mib %.1f\n", (n_pages - n_ram_pages) * PAGE / 1048576.0);
    printf("false_raw_hits %u\n", raw);
    printf("raw_hits_in_pixdata %u\n", pixdata);
    printf("false_raw_per_gib %.2f\n", raw / gib);
    printf("encoded_hits_in_filler %u\n", encoded);
    printf("dense_scan_gb_per_s %.2f\n", n_pages * PAGE / t / 1e9);
    printf("dense_allcore_gb_per_s %.2f\n", n_pages * PAGE / base / 1e9);
    printf("dense_scan_vs_allcore %.3f\n", base / t);
    if (dense_only)
      return 0;

    /* Recall: images written into that memory, a batch at a time. */
    g_autoptr(GPtrArray) all = corpus_load_pictures(picture_dirs, (guint)per_dir, 32);
    g_autoptr(GPtrArray) pics = g_ptr_array_new();
    for (guint i = 0; i < all->len; i++)
      if (half < 0 || ((Picture *)g_ptr_array_index(all, i))->half == half)
        g_ptr_array_add(pics, g_ptr_array_index(all, i));
    printf("pictures %u of %u\n", pics->len, all->len);
    if (pics->len == 0 || n_pages < BATCH / PAGE)
      bench_die("corpus", NULL);
    GRand *rng = g_rand_new_with_seed((guint32)seed);
    g_autofree guint8 *batch = g_malloc(BATCH);
    guint done_raw = 0, done_enc = 0, batch_false = 0;
    double batch_bytes = 0;
    while (done_raw < (guint)cases_wanted || done_enc < (guint)encoded_wanted) {
      gsize first = (gsize)g_rand_int_range(rng, 0, (gint)(n_pages - BATCH / PAGE + 1));
      memcpy(batch, pages + first * PAGE, BATCH);
      Case cases[64];
      guint n = 0;
      guint64 at = PAGE * (guint64)g_rand_int_range(rng, 1, 64);
      while (n < G_N_ELEMENTS(cases)) {
        Case c = { 0 };
        guint zero_pad = 0;
        gboolean enc = done_enc < (guint)encoded_wanted &&
                       (done_raw >= (guint)cases_wanted || g_rand_int_range(rng, 0, 4) == 0);
        g_autofree guint8 *data = enc ? encoded_case(rng, pics, &c)
                                      : raw_case(rng, pics, &c, &zero_pad);
        if (data == NULL)
          continue;
        /* Where in the page the image starts: any byte, 16-byte aligned, or a page. */
        guint align = (guint)g_rand_int_range(rng, 0, 4);
        guint64 off = align == 0 ? (guint64)g_rand_int_range(rng, 0, PAGE)
                    : align == 3 ? 0 : 16 * (guint64)g_rand_int_range(rng, 0, PAGE / 16);
        if (at + off + c.size + PAGE > BATCH)
          break;
        c.gpa = at + off;
        if (enc || zero_pad)
          memcpy(batch + c.gpa, data, c.size);
        else   /* padding keeps the memory that was there */
          for (guint y = 0; y < c.height; y++)
            memcpy(batch + c.gpa + y * c.stride, data + y * c.stride,
                   (gsize)c.width * hw_pixel_format_bits(c.format) / 8);
        cases[n++] = c;
        enc ? done_enc++ : done_raw++;
        at = (c.gpa + c.size + PAGE - 1) / PAGE * PAGE +
             PAGE * (guint64)g_rand_int_range(rng, 1, 16);
        if (done_raw >= (guint)cases_wanted && done_enc >= (guint)encoded_wanted)
          break;
      }
      g_autoptr(GArray) found = scan(batch, BATCH, NULL, NULL);
      batch_false += match(found, cases, n);
      batch_bytes += BATCH;
      HwRamRange range = { .gpa = 0, .size = BATCH };
      g_autoptr(HwPhysMem) batch_mem = hw_physmem_new_from_data(batch, BATCH, &range, 1, &error);
      if (!batch_mem)
        bench_die("memory", error);
      HwReader batch_reader = hw_reader_for_physmem(batch_mem);
      for (guint k = 0; k < n; k++) {
        const Case *c = &cases[k];
        if (c->encoded) {
          tally(BY_ENCODING, corpus_encoding_names[c->enc], c);
          continue;
        }
        cases[k].measured = measure_only(&batch_reader, c, batch);
        tally(BY_FORMAT, hw_pixel_format_name(c->format), c);
        tally(BY_SIZE, size_class(c->size), c);
        tally(BY_VARIANT, c->variant, c);
        tally(BY_VARIANT, "all", c);
        tally(BY_SOURCE, c->source, c);
        if (pages_out)   /* the case's whole pages, to study page classification offline */
          for (guint64 pg = (c->gpa + PAGE - 1) / PAGE; (pg + 1) * PAGE <= c->gpa + c->size; pg++)
          {
            fwrite(batch + pg * PAGE, 1, PAGE, pages_out);
            fprintf(pages_info, "%s %s %u\n", hw_pixel_format_name(c->format), c->variant,
                    c->width);
          }
        if (!c->found && g_getenv("BENCH_DETECT_EXPLAIN")) {
          GString *cls = g_string_new(NULL);
          for (guint64 pg = c->gpa / PAGE; pg <= (c->gpa + c->size - 1) / PAGE && cls->len < 200; pg++) {
            HwPixelFormat pf = HW_PIXEL_RGBA8888;
            HwRawClass rc = hw_raw_classify_page(batch + pg * PAGE, &pf);
            g_string_append_printf(cls, "%s ", rc == HW_RAW_NONE ? "-" : rc == HW_RAW_FLAT ? "flat" : hw_pixel_format_name(pf));
          }
          fprintf(stderr, "pages: %s\n", cls->str);
          g_string_free(cls, TRUE);
        }
        if (!c->found && g_getenv("BENCH_DETECT_MISSES"))
          fprintf(stderr, "miss: %s %ux%u stride %zu %s size %zu at 0x%" G_GINT64_MODIFIER
                  "x %s%s%s\n", hw_pixel_format_name(c->format), c->width, c->height, c->stride,
                  c->variant, c->size, c->gpa, c->source, c->seen ? " (a raw hit overlaps)" : "",
                  c->measured ? " (measured exactly alone)" : "");
        if (!c->found && g_getenv("BENCH_DETECT_MISSES"))
          explain(found, c);
      }
    }
    g_rand_free(rng);
    g_free(pages);
    if (pages_out) {
      fclose(pages_out);
      fclose(pages_info);
    }
    printf("raw_cases %u\nencoded_cases %u\n", done_raw, done_enc);
    printf("partial_scans %u\n", partial_scans);
    printf("false_raw_hits_between_images %u in %.0f MiB\n", batch_false, batch_bytes / 1048576);
    print_group("format", BY_FORMAT);
    print_group("size", BY_SIZE);
    print_group("variant", BY_VARIANT);
    print_group("encoding", BY_ENCODING);
    print_group("source", BY_SOURCE);
    for (guint b = 0; b <= 10; b++) {
      const guint *n = calibration[b];
      if (n[CAL_EXACT] + n[CAL_WRONG] + n[CAL_FALSE] + n[CAL_DENSE])
        printf("confidence_%.1f exact %u wrong %u false %u nonimage %u\n", b / 10.0,
               n[CAL_EXACT], n[CAL_WRONG], n[CAL_FALSE], n[CAL_DENSE]);
    }
  }
  for (guint g = 0; g < N_GROUPS; g++)
    g_hash_table_unref(tallies[g]);
  return 0;
}
