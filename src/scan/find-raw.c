/* Raw pixel finder: pages whose bytes look like pixels of some format (a constant
 * alpha/padding byte, neighbours that differ less than random pairs do), then, over
 * a run of such pages, the width at which each row best predicts the next. */
#include "scan/find-raw.h"
#include <haywire/physmem.h>

#include <stdlib.h>
#include <string.h>

#define PAGE HW_PAGE_SIZE
#define MIN_WIDTH 32u   /* narrower periods are mostly arrays of small structures */
#define MAX_WIDTH 4096u
#define MIN_ROWS 8u
#define SAMPLES 1024u
#define COARSE_SAMPLES 64u
#define CANDIDATES 8u
#define MAX_MEASURE (4u << 20)   /* bytes of a run used to find the width */

/* Channel values of pixel I of format F in BUF, as 0..255. Always inlined: F is a
 * constant at every hot call, and the switch then disappears. */
static inline __attribute__((always_inline)) void
channels(HwPixelFormat f, const guint8 *buf, gsize i, guint c[3])
{
  switch (f) {
  case HW_PIXEL_RGB888:
    c[0] = buf[3 * i], c[1] = buf[3 * i + 1], c[2] = buf[3 * i + 2];
    break;
  case HW_PIXEL_RGB565: {
    guint v = buf[2 * i] | (guint)buf[2 * i + 1] << 8;
    c[0] = (v >> 11) << 3, c[1] = ((v >> 5) & 63) << 2, c[2] = (v & 31) << 3;
    break;
  }
  case HW_PIXEL_GRAY8:
    c[0] = c[1] = c[2] = buf[i];
    break;
  default:   /* the 32-bit formats: the three colour bytes */
    c[0] = buf[4 * i], c[1] = buf[4 * i + 1], c[2] = buf[4 * i + 2];
    break;
  }
}

static inline __attribute__((always_inline)) guint
pixel_diff(HwPixelFormat f, const guint8 *buf, gsize i, gsize j)
{
  guint a[3], b[3];
  channels(f, buf, i, a);
  channels(f, buf, j, b);
  return (guint)abs((int)a[0] - (int)b[0]) + (guint)abs((int)a[1] - (int)b[1]) +
         (guint)abs((int)a[2] - (int)b[2]);
}

/* Mean neighbour difference and mean difference of scattered pairs over N pixels,
 * sampling every STEP-th pixel. */
static inline __attribute__((always_inline)) void
smoothness(HwPixelFormat f, const guint8 *buf, gsize n, gsize step, double *near, double *far)
{
  guint64 dn = 0, df = 0;
  gsize k = 0;
  for (gsize i = 0; i + 1 < n; i += step, k++) {
    dn += pixel_diff(f, buf, i, i + 1);
    df += pixel_diff(f, buf, i, (i * 7919 + n / 3) % n);
  }
  *near = k ? (double)dn / (double)k : 0;
  *far = k ? (double)df / (double)k : 0;
}

HwRawClass
hw_raw_classify_page(const guint8 *page, HwPixelFormat *format)
{
  /* 32-bit pixels: the fourth byte is the same (0xff alpha or 0 padding) almost
   * everywhere. */
  guint opaque = 0, padded = 0;
  double near, far;
  /* A look at every 16th pixel first: most pages fail it. */
  for (guint i = 3; i < PAGE; i += 64) {
    opaque += page[i] == 0xff;
    padded += page[i] == 0;
  }
  if (opaque >= 60 || padded >= 60) {
    opaque = padded = 0;
    for (guint i = 3; i < PAGE; i += 4) {
      opaque += page[i] == 0xff;
      padded += page[i] == 0;
    }
    if (opaque >= 1000 || padded >= 1000) {
      HwPixelFormat f = opaque >= 1000 ? HW_PIXEL_RGBA8888 : HW_PIXEL_XRGB8888;
      smoothness(f, page, PAGE / 4, 3, &near, &far);
      *format = f;
      if (far < 3)
        return HW_RAW_FLAT;
      return near < 0.5 * far ? HW_RAW_PIXELS : HW_RAW_NONE;
    }
  }
  /* 16- and 24-bit pixels: smooth at their own pixel size, rough at the others. */
  double n16, f16, n24, f24;
  /* Most pages are neither: a sparse first look (about 40 pairs each) rejects them cheaply. */
  smoothness(HW_PIXEL_RGB565, page, PAGE / 2, 53, &n16, &f16);
  smoothness(HW_PIXEL_RGB888, page, PAGE / 3, 37, &n24, &f24);
  if (!(f16 >= 12 && n16 < 0.6 * f16) && !(f24 >= 12 && n24 < 0.6 * f24))
    return HW_RAW_NONE;
  smoothness(HW_PIXEL_RGB565, page, PAGE / 2, 3, &n16, &f16);
  smoothness(HW_PIXEL_RGB888, page, PAGE / 3, 3, &n24, &f24);
  gboolean ok16 = f16 >= 12 && n16 < 0.35 * f16, ok24 = f24 >= 12 && n24 < 0.35 * f24;
  if (ok16 && (!ok24 || n16 / f16 < n24 / f24)) {
    *format = HW_PIXEL_RGB565;
    return HW_RAW_PIXELS;
  }
  if (ok24) {
    *format = HW_PIXEL_RGB888;
    return HW_RAW_PIXELS;
  }
  return HW_RAW_NONE;
}

/* Mean difference between pixels W apart, over up to SAMPLES positions spread over N. */
static inline __attribute__((always_inline)) double
row_score(HwPixelFormat f, const guint8 *buf, gsize n, gsize w, gsize samples)
{
  guint64 d = 0;
  gsize span = n - w, step = MAX(span / samples, 1), k = 0;
  for (gsize i = 0; i < span && k < samples; i += step, k++)
    d += pixel_diff(f, buf, i, i + w);
  return k ? (double)d / (double)k : 0;
}

#define ROW_SCORE_FOR(name, fmt)                                                     \
  static double name(const guint8 *buf, gsize n, gsize w, gsize samples)            \
  {                                                                                  \
    return row_score(fmt, buf, n, w, samples);                                       \
  }
ROW_SCORE_FOR(score_32, HW_PIXEL_RGBA8888)
ROW_SCORE_FOR(score_24, HW_PIXEL_RGB888)
ROW_SCORE_FOR(score_16, HW_PIXEL_RGB565)

typedef double (*ScoreFunc)(const guint8 *buf, gsize n, gsize w, gsize samples);

/* The K-th smallest of V[0, N) (V is reordered): quickselect, no full sort. */
static double
select_kth(double *v, gsize n, gsize k)
{
  gsize lo = 0, hi = n - 1;
  while (lo < hi) {
    double pivot = v[lo + (hi - lo) / 2];
    gsize i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot)
        i++;
      while (v[j] > pivot)
        j--;
      if (i <= j) {
        double t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        if (j == 0)
          break;
        j--;
      }
    }
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      break;
  }
  return v[k];
}

gboolean
hw_raw_measure(const HwReader *r, guint64 addr, guint64 len, HwPixelFormat f, HwImage *out)
{
  guint bpp = hw_pixel_format_bits(f) / 8;
  gsize n_bytes = (gsize)MIN(len, (guint64)MAX_MEASURE);
  gsize n = n_bytes / bpp;
  if (bpp < 2 || bpp > 4 || n < MIN_WIDTH * MIN_ROWS)
    return FALSE;
  ScoreFunc score_at = bpp == 4 ? score_32 : bpp == 3 ? score_24 : score_16;
  g_autofree guint8 *buf = g_malloc(n_bytes);
  if (!hw_reader_read(r, addr, buf, n_bytes))
    return FALSE;

  gsize wmax = MIN((gsize)MAX_WIDTH, n / 4);
  if (wmax < MIN_WIDTH + 2)
    return FALSE;
  gsize count = wmax - MIN_WIDTH + 2;   /* widths MIN_WIDTH - 1 .. wmax */
  /* A coarse score for every width, then the best few local minima again with all
   * samples: the width search costs a few thousand pixel pairs per width otherwise. */
  g_autofree double *score = g_new(double, count);
  for (gsize i = 0; i < count; i++)
    score[i] = score_at(buf, n, MIN_WIDTH - 1 + i, COARSE_SAMPLES);
  g_autofree double *sorted = g_memdup2(score, count * sizeof(double));
  double median = select_kth(sorted, count, count / 2);
  if (median <= 0)
    return FALSE;
  /* Candidates: the CANDIDATES lowest strict local minima, kept sorted by score. */
  gsize cand[CANDIDATES], n_cand = 0;
  for (gsize i = 1; i + 1 < count; i++) {
    if (!(score[i] < score[i - 1] && score[i] <= score[i + 1]))
      continue;
    if (n_cand == CANDIDATES && score[i] >= score[cand[n_cand - 1]])
      continue;
    gsize j = n_cand < CANDIDATES ? n_cand++ : CANDIDATES - 1;
    for (; j > 0 && score[cand[j - 1]] > score[i]; j--)
      cand[j] = cand[j - 1];
    cand[j] = i;
  }
  /* Rescore them with all samples, still strict local minima; in width order, a wider
   * one (a multiple of the true width scores low too) must be 5% better to win. The
   * best width lies inside the range: a ramp of counters scores best at the smallest
   * width, which is outside. */
  double full[CANDIDATES];
  for (gsize c = 0; c < n_cand; c++) {
    gsize i = cand[c];
    full[c] = score_at(buf, n, MIN_WIDTH - 1 + i, SAMPLES);
    if (!(full[c] < score_at(buf, n, MIN_WIDTH - 2 + i, SAMPLES) &&
          full[c] <= score_at(buf, n, MIN_WIDTH + i, SAMPLES)))
      full[c] = -1;
  }
  gsize best = 0;
  double best_score = 0;
  for (gsize i = 1; i + 1 < count; i++)
    for (gsize c = 0; c < n_cand; c++)
      if (cand[c] == i && full[c] >= 0 && (best == 0 || full[c] < best_score * 0.95)) {
        best = i;
        best_score = full[c];
      }
  if (best == 0)
    return FALSE;
  double confidence = 1.0 - best_score / median;
  gsize width = MIN_WIDTH - 1 + best;
  guint64 rows = len / ((guint64)width * bpp);
  /* Arrays of structures repeat with their size as a period too, but their rows
   * predict each other less well than a picture's do (0.5-0.8 on a real guest's
   * kernel data, 0.95 and more on pictures). */
  if (confidence < 0.85 || rows < MIN_ROWS)
    return FALSE;
  *out = (HwImage){ .kind = HW_IMAGE_RAW, .addr = addr, .width = (guint32)width,
                    .height = (guint32)MIN(rows, (guint64)G_MAXUINT32),
                    .stride = (guint32)(width * bpp), .format = f,
                    .confidence = CLAMP(confidence, 0.0, 1.0) };
  out->size = (guint64)out->stride * out->height;
  return TRUE;
}

/* Whether the 4 bytes at P are a pixel with fourth byte ALPHA. With a zero fourth
 * byte, a black pixel looks like zero memory: the ends stop at it. */
static gboolean
is_pixel(const guint8 *p, guint8 alpha)
{
  return p[3] == alpha && (alpha != 0 || (p[0] | p[1] | p[2]) != 0);
}

/* Move [*START, *END) to the pixels with fourth byte ALPHA around its ends: out over
 * pixels in the page beyond each end, in over non-pixels within the end pages. */
void
hw_raw_trim(const HwReader *r, guint64 *start, guint64 *end, guint8 alpha)
{
  guint8 page[PAGE];
  guint i;
  if (*end % 4 == 0 && hw_reader_read(r, *end, page, PAGE)) {
    for (i = 0; i + 4 <= PAGE && is_pixel(page + i, alpha); i += 4)
      ;
    *end += i;
  }
  if (*start >= PAGE && *start % 4 == 0 && hw_reader_read(r, *start - PAGE, page, PAGE)) {
    for (i = PAGE; i >= 4 && is_pixel(page + i - 4, alpha); i -= 4)
      ;
    *start -= PAGE - i;
  }
  if (*end - *start >= PAGE && hw_reader_read(r, *start, page, PAGE)) {
    for (i = 0; i + 4 <= PAGE && !is_pixel(page + i, alpha); i += 4)
      ;
    *start += i;
  }
  if (*end - *start >= PAGE && hw_reader_read(r, *end - PAGE, page, PAGE)) {
    for (i = PAGE; i >= 4 && !is_pixel(page + i - 4, alpha); i -= 4)
      ;
    *end -= PAGE - i;
  }
}
