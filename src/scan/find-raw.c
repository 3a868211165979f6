/* Raw pixel pages: a page whose bytes look like pixels of some size (gray8, rgb565,
 * 24-bit, 32-bit). Each byte lane (the bytes at one offset modulo the pixel size) is
 * judged on its own: a lane is smooth when neighbouring pixels differ much less than
 * scattered ones, constant when it barely varies (alpha, padding), noisy otherwise. A
 * page is pixels when at least two colour lanes are smooth, whatever a dithered or
 * noisy lane does; the pixel size whose lanes are smoothest wins. */
#include "scan/find-raw.h"
#include "scan/cpu.h"
#include <haywire/physmem.h>

#include <stdlib.h>
#include <string.h>

#define PAGE HW_PAGE_SIZE
#define FLAT_FAR 3.0      /* a lane whose scattered pairs differ less than this is constant */
#define MIN_FAR 10.0      /* a smooth lane must vary at least this much */
#define SMOOTH 0.55       /* near / far at most this for a smooth lane */
#define SMOOTH_ALPHA 0.7  /* the same beside an alpha lane, itself strong evidence */
#define EXTREME_MAX 0.3   /* pixels have a smaller share of 0x00 and 0xff bytes */
#define CONSTANT_LANE 940u  /* of 1024 bytes one value: 8% left for row padding, edges */

/* Near and far differences of each byte lane of pixel size BPP (1, 3 or 4) over the
 * page, sampling every STEP-th pixel. Inlined so that BPP and STEP are constants and
 * the lane loop unrolls: this runs on every page a scan sees. */
static inline __attribute__((always_inline)) void
lanes(const guint8 *p, guint bpp, guint step, double near[4], double far[4])
{
  guint32 dn[4] = { 0 }, df[4] = { 0 };   /* at most 4096 * 255: no overflow */
  guint k = 0, n = PAGE / bpp;
  /* j = (i * 7919 + n / 3) % n, a scattered partner, kept without a division */
  guint j = n / 3, jstep = step * 7919u % n;
  for (guint i = 0; i + 1 < n; i += step, k++, j = j + jstep >= n ? j + jstep - n : j + jstep) {
    const guint8 *a = p + i * bpp, *b = a + bpp, *c = p + j * bpp;
#pragma GCC unroll 4
    for (guint l = 0; l < bpp; l++) {
      dn[l] += (guint32)abs(a[l] - b[l]);
      df[l] += (guint32)abs(a[l] - c[l]);
    }
  }
  for (guint l = 0; l < bpp; l++) {
    near[l] = k ? (double)dn[l] / k : 0;
    far[l] = k ? (double)df[l] / k : 0;
  }
}

/* The three channels of an rgb565 pixel, each scaled to 0-255. */
static inline __attribute__((always_inline)) void
channels_565(const guint8 *q, int ch[3])
{
  guint v = q[0] | (guint)q[1] << 8;
  ch[0] = (int)((v >> 11) << 3);
  ch[1] = (int)(((v >> 5) & 63) << 2);
  ch[2] = (int)((v & 31) << 3);
}

/* The same for rgb565 pixels (pixel starting at byte PARITY), by their three channels. */
static inline __attribute__((always_inline)) void
lanes_565(const guint8 *p, guint parity, guint step, double near[3], double far[3])
{
  guint32 dn[3] = { 0 }, df[3] = { 0 };
  guint k = 0, n = (PAGE - parity) / 2;
  const guint8 *q = p + parity;
  guint j = n / 3, jstep = step * 7919u % n;   /* as in lanes() */
  for (guint i = 0; i + 1 < n; i += step, k++, j = j + jstep >= n ? j + jstep - n : j + jstep) {
    int a[3], b[3], c[3];
    channels_565(q + 2 * i, a);
    channels_565(q + 2 * i + 2, b);
    channels_565(q + 2 * j, c);
    for (guint l = 0; l < 3; l++) {
      dn[l] += (guint32)abs(a[l] - b[l]);
      df[l] += (guint32)abs(a[l] - c[l]);
    }
  }
  for (guint l = 0; l < 3; l++) {
    near[l] = k ? (double)dn[l] / k : 0;
    far[l] = k ? (double)df[l] / k : 0;
  }
}

/* Judge N lanes (SKIP: a lane to leave out, the alpha or padding byte, or -1): how many
 * are smooth, whether any varies at all, and the mean near/far ratio of the smooth
 * ones (1 when none is). */
static guint
judge_at(const double *near, const double *far, guint n, int skip, double smooth_bar,
         gboolean *varied, double *ratio)
{
  guint smooth = 0;
  double sum = 0;
  *varied = FALSE;
  for (guint l = 0; l < n; l++) {
    if ((int)l == skip)
      continue;
    if (far[l] >= FLAT_FAR)
      *varied = TRUE;
    if (far[l] >= MIN_FAR && near[l] < smooth_bar * far[l]) {
      smooth++;
      sum += near[l] / far[l];
    }
  }
  *ratio = smooth ? sum / smooth : 1.0;
  return smooth;
}

static guint
judge(const double *near, const double *far, guint n, int skip, gboolean *varied, double *ratio)
{
  return judge_at(near, far, n, skip, SMOOTH, varied, ratio);
}

/* How many bytes of each lane (offset mod 4) of the page are 0x00 and 0xff, counted 16
 * bytes at a time (GCC/Clang vector extensions: SSE2 or NEON, else plain code); the
 * same counts over only the 16-byte blocks that are not all one value, and how many
 * such blocks there are. */
typedef unsigned char V16 __attribute__((vector_size(16)));

typedef struct {
  guint zero[4], ff[4];          /* all the page */
  guint vzero[4], vff[4];        /* blocks that are not all one value */
  guint varied_blocks;
} Extremes;

/* What the count loops leave: per lane, and the blocks of one value. */
static void
extremes_finish(Extremes *e, guint uniform, guint uniform_zero, guint uniform_ff)
{
  for (guint l = 0; l < 4; l++) {
    e->vzero[l] = e->zero[l] - 4 * uniform_zero;
    e->vff[l] = e->ff[l] - 4 * uniform_ff;
  }
  e->varied_blocks = PAGE / 16 - uniform;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same counts 32 bytes at a time where the CPU has AVX2 (chosen at run time). */
typedef unsigned char V32 __attribute__((vector_size(32)));
typedef char V32s __attribute__((vector_size(32)));

__attribute__((target("avx2"))) static void
extreme_counts_avx2(const guint8 *p, Extremes *e)
{
  guint uniform = 0, uniform_zero = 0, uniform_ff = 0;
  /* Byte counters overflow at 256: add them up every 64 vectors. */
  for (guint half = 0; half < 2; half++) {
    V32 z = { 0 }, f = { 0 };
    for (guint i = half * PAGE / 2; i < (half + 1) * PAGE / 2; i += 32) {
      V32 v;
      memcpy(&v, p + i, 32);
      V32 isz = (V32)(v == 0), isf = (V32)(v == 0xff);
      /* Each 16-byte half against its own first byte. */
      V32 first = __builtin_shufflevector(v, v, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                          16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
                                          16, 16, 16);
      guint same = (guint)__builtin_ia32_pmovmskb256((V32s)(v == first));
      guint zs = (guint)__builtin_ia32_pmovmskb256((V32s)isz);
      guint fs = (guint)__builtin_ia32_pmovmskb256((V32s)isf);
      uniform += ((same & 0xffff) == 0xffff) + ((same >> 16) == 0xffff);
      uniform_zero += ((zs & 0xffff) == 0xffff) + ((zs >> 16) == 0xffff);
      uniform_ff += ((fs & 0xffff) == 0xffff) + ((fs >> 16) == 0xffff);
      z -= isz;   /* true is all ones: -1 */
      f -= isf;
    }
    for (guint k = 0; k < 32; k++) {
      e->zero[k % 4] += z[k];
      e->ff[k % 4] += f[k];
    }
  }
  extremes_finish(e, uniform, uniform_zero, uniform_ff);
}

#endif

static void
extreme_counts(const guint8 *p, Extremes *e)
{
  memset(e, 0, sizeof *e);
#if defined(__x86_64__) && defined(__GNUC__)
  if (hw_cpu_has_avx2()) {
    extreme_counts_avx2(p, e);
    return;
  }
#endif
  /* Blocks of one value: counted apart, and those of 0x00 or 0xff taken out of the
   * counts after the loop (each adds 4 to every lane). */
  guint uniform = 0, uniform_zero = 0, uniform_ff = 0;
  /* Byte counters overflow at 256: add them up every 128 blocks. */
  for (guint half = 0; half < 2; half++) {
    V16 z = { 0 }, f = { 0 };
    for (guint i = half * PAGE / 2; i < (half + 1) * PAGE / 2; i += 16) {
      V16 v;
      guint64 w0, w1;
      memcpy(&v, p + i, 16);
      memcpy(&w0, p + i, 8);
      memcpy(&w1, p + i + 8, 8);
      z -= (V16)(v == 0);   /* true is all ones: -1 */
      f -= (V16)(v == 0xff);
      /* No branch: whether a block is uniform is what the data decides. */
      uniform += w0 == w1 && w0 == (w0 >> 8 | w0 << 56);
      uniform_zero += (w0 | w1) == 0;
      uniform_ff += (w0 & w1) == ~(guint64)0;
    }
    for (guint k = 0; k < 16; k++) {
      e->zero[k % 4] += z[k];
      e->ff[k % 4] += f[k];
    }
  }
  extremes_finish(e, uniform, uniform_zero, uniform_ff);
}

/* A 32-bit page: a lane holding one value (0xff alpha or 0 padding) at nearly every
 * pixel, by the counts above. Its lane and value, or -1. Either value counts: a picture
 * with transparent parts has 0xff alpha where it is opaque and 0 where it is not. */
static int
constant_lane(const Extremes *e, guint8 *value)
{
  for (guint l = 0; l < 4; l++)
    if (e->ff[l] + e->zero[l] >= CONSTANT_LANE) {
      *value = e->ff[l] >= e->zero[l] ? 0xff : 0;
      return (int)l;
    }
  return -1;
}

/* The share of 0x00 and 0xff bytes in the lanes other than SKIP (-1: none), leaving
 * out stretches of one value (a white or black background). Pictures hold few (their
 * colours are rarely saturated); tables, structures and pointers in memory are full of
 * them: of the non-image pages the lane tests took for pixels in the benchmark, about
 * nine in ten had 30% or more of these bytes, of the image pages about three in a
 * hundred (EXTREME_MAX tuned on the benchmark's tuning half). */
static double
extreme_share(const Extremes *e, int skip)
{
  guint n = 0, lanes_counted = 0;
  for (guint l = 0; l < 4; l++)
    if ((int)l != skip) {
      n += e->vzero[l] + e->vff[l];
      lanes_counted++;
    }
  return e->varied_blocks ? (double)n / (lanes_counted * e->varied_blocks * 4) : 0;
}

HwRawClass
hw_raw_classify_page(const guint8 *page, HwPixelFormat *format)
{
  double near[4], far[4], ratio, best = 1.0;
  gboolean varied;
  HwRawClass cls = HW_RAW_NONE;
  guint8 value = 0;
  Extremes e;
  extreme_counts(page, &e);
  int alpha = constant_lane(&e, &value);
  gboolean saturated = extreme_share(&e, alpha) >= EXTREME_MAX;
  /* 32-bit pixels need the close look below unless a sparse look (about 80 pixels)
   * already sees a page neither flat nor smooth (most pages with a constant lane are
   * tables and structures): it would find no pixels. Margins keep it on the safe side. */
  gboolean close_look = alpha >= 0;
  if (alpha >= 0) {
    lanes(page, 4, 13, near, far);
    guint smooth = judge_at(near, far, 4, alpha, SMOOTH_ALPHA + 0.15, &varied, &ratio);
    gboolean contrast = FALSE;
    for (guint l = 0; l < 4; l++)
      contrast |= (int)l != alpha && far[l] >= 3 * MIN_FAR;
    close_look = !contrast || (smooth > 0 && !saturated);
  }
  if (close_look) {
    lanes(page, 4, 3, near, far);
    guint smooth = judge_at(near, far, 4, alpha, SMOOTH_ALPHA, &varied, &ratio);
    /* Low contrast beside an alpha lane (sky, a texture, a fade) carries a run on, as
     * one colour does, but starts none. */
    gboolean faint = TRUE;
    for (guint l = 0; l < 4; l++)
      faint &= (int)l == alpha || far[l] < 2 * MIN_FAR;
    if (!varied || (smooth < 2 && faint)) {
      *format = value == 0xff ? HW_PIXEL_RGBA8888 : HW_PIXEL_XRGB8888;
      return HW_RAW_FLAT;
    }
    if (smooth >= 2 && !saturated) {
      *format = value == 0xff ? HW_PIXEL_RGBA8888 : HW_PIXEL_XRGB8888;
      return HW_RAW_PIXELS;
    }
  }
  if (saturated)
    return HW_RAW_NONE;
  /* The other sizes: a sparse look first (about 40 pixels), then all lanes closely for
   * each size whose sparse look saw a smooth lane (most pages fail every one). */
  lanes(page, 3, 37, near, far);
  guint s24 = judge(near, far, 3, -1, &varied, &ratio);
  lanes(page, 1, 97, near, far);
  guint s8 = judge(near, far, 1, -1, &varied, &ratio);
  double n16[3], f16[3];
  guint s16[2];
  for (guint parity = 0; parity < 2; parity++) {
    lanes_565(page, parity, 53, n16, f16);
    s16[parity] = judge(n16, f16, 3, -1, &varied, &ratio);
  }
  if (s24 >= 1) {
    lanes(page, 3, 3, near, far);
    if (judge(near, far, 3, -1, &varied, &ratio) >= 2 && ratio < best) {
      best = ratio;
      *format = HW_PIXEL_RGB888;
      cls = HW_RAW_PIXELS;
    }
  }
  for (guint parity = 0; parity < 2; parity++) {
    if (s16[parity] < 1)
      continue;
    lanes_565(page, parity, 3, n16, f16);
    if (judge(n16, f16, 3, -1, &varied, &ratio) >= 2 && ratio < best) {
      best = ratio;
      *format = HW_PIXEL_RGB565;
      cls = HW_RAW_PIXELS;
    }
  }
  /* Gray: one lane only, so a stricter bar (byte tables are smooth too). */
  if (s8 >= 1) {
    lanes(page, 1, 3, near, far);
    if (judge(near, far, 1, -1, &varied, &ratio) == 1 && ratio < 0.25 && ratio < best) {
      *format = HW_PIXEL_GRAY8;
      cls = HW_RAW_PIXELS;
    }
  }
  return cls;
}
