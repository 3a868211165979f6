/* Raw pixel pages: a page whose bytes look like pixels of some size (gray8, rgb565,
 * 24-bit, 32-bit). Each byte lane (the bytes at one offset modulo the pixel size) is
 * judged on its own: a lane is smooth when neighbouring pixels differ much less than
 * scattered ones, constant when it barely varies (alpha, padding), noisy otherwise. A
 * page is pixels when at least two colour lanes are smooth, whatever a dithered or
 * noisy lane does; the pixel size whose lanes are smoothest wins. */
#include "scan/find-raw.h"
#include <haywire/physmem.h>

#include <stdlib.h>

#define PAGE HW_PAGE_SIZE
#define FLAT_FAR 3.0      /* a lane whose scattered pairs differ less than this is constant */
#define MIN_FAR 10.0      /* a smooth lane must vary at least this much */
#define SMOOTH 0.45       /* near / far at most this for a smooth lane */
#define SMOOTH_ALPHA 0.7  /* the same beside an alpha lane, itself strong evidence */

/* Near and far differences of each byte lane of pixel size BPP (1, 3 or 4) over the
 * page, sampling every STEP-th pixel. */
static inline __attribute__((always_inline)) void
lanes(const guint8 *p, guint bpp, guint step, double near[4], double far[4])
{
  guint64 dn[4] = { 0 }, df[4] = { 0 };
  guint k = 0, n = PAGE / bpp;
  for (guint i = 0; i + 1 < n; i += step, k++) {
    guint j = (i * 7919u + n / 3) % n;
    for (guint l = 0; l < bpp; l++) {
      int a = p[i * bpp + l];
      dn[l] += (guint)abs(a - p[(i + 1) * bpp + l]);
      df[l] += (guint)abs(a - p[j * bpp + l]);
    }
  }
  for (guint l = 0; l < bpp; l++) {
    near[l] = k ? (double)dn[l] / k : 0;
    far[l] = k ? (double)df[l] / k : 0;
  }
}

/* The same for rgb565 pixels (pixel starting at byte PARITY), by their three channels. */
static void
lanes_565(const guint8 *p, guint parity, guint step, double near[3], double far[3])
{
  guint64 dn[3] = { 0 }, df[3] = { 0 };
  guint k = 0, n = (PAGE - parity) / 2;
  const guint8 *q = p + parity;
#define CH(v, c) ((c) == 0 ? ((v) >> 11) << 3 : (c) == 1 ? (((v) >> 5) & 63) << 2 : ((v) & 31) << 3)
  for (guint i = 0; i + 1 < n; i += step, k++) {
    guint j = (i * 7919u + n / 3) % n;
    guint a = q[2 * i] | (guint)q[2 * i + 1] << 8, b = q[2 * i + 2] | (guint)q[2 * i + 3] << 8;
    guint c = q[2 * j] | (guint)q[2 * j + 1] << 8;
    for (guint l = 0; l < 3; l++) {
      dn[l] += (guint)abs((int)CH(a, l) - (int)CH(b, l));
      df[l] += (guint)abs((int)CH(a, l) - (int)CH(c, l));
    }
  }
#undef CH
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

/* A 32-bit page: a lane holding one value (0xff alpha or 0 padding) at nearly every
 * pixel, as a sparse look says first (most pages fail it). Its lane and value. */
static int
constant_lane(const guint8 *p, guint8 *value)
{
  /* Either value counts: a picture with transparent parts has 0xff alpha where it is
   * opaque and 0 where it is not. */
  for (guint l = 0; l < 4; l++) {
    guint ff = 0, zero = 0;
    for (guint i = l; i < PAGE; i += 64) {
      ff += p[i] == 0xff;
      zero += p[i] == 0;
    }
    if (ff + zero < 60)
      continue;
    ff = zero = 0;
    for (guint i = l; i < PAGE; i += 4) {
      ff += p[i] == 0xff;
      zero += p[i] == 0;
    }
    if (ff + zero >= 1000) {
      *value = ff >= zero ? 0xff : 0;
      return (int)l;
    }
  }
  return -1;
}

HwRawClass
hw_raw_classify_page(const guint8 *page, HwPixelFormat *format)
{
  double near[4], far[4], ratio, best = 1.0;
  gboolean varied;
  HwRawClass cls = HW_RAW_NONE;
  guint8 value = 0;
  int alpha = constant_lane(page, &value);
  if (alpha >= 0) {
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
    if (smooth >= 2) {
      *format = value == 0xff ? HW_PIXEL_RGBA8888 : HW_PIXEL_XRGB8888;
      return HW_RAW_PIXELS;
    }
  }
  /* The other sizes: a sparse look first (about 40 pixels), then all lanes closely. */
  lanes(page, 3, 37, near, far);
  guint s24 = judge(near, far, 3, -1, &varied, &ratio);
  lanes(page, 1, 97, near, far);
  guint s8 = judge(near, far, 1, -1, &varied, &ratio);
  double n16[3], f16[3];
  lanes_565(page, 0, 53, n16, f16);
  guint s16 = judge(n16, f16, 3, -1, &varied, &ratio);
  if (s24 < 1 && s8 < 1 && s16 < 1)
    return HW_RAW_NONE;
  lanes(page, 3, 3, near, far);
  if (judge(near, far, 3, -1, &varied, &ratio) >= 2 && ratio < best) {
    best = ratio;
    *format = HW_PIXEL_RGB888;
    cls = HW_RAW_PIXELS;
  }
  for (guint parity = 0; parity < 2; parity++) {
    lanes_565(page, parity, 3, n16, f16);
    if (judge(n16, f16, 3, -1, &varied, &ratio) >= 2 && ratio < best) {
      best = ratio;
      *format = HW_PIXEL_RGB565;
      cls = HW_RAW_PIXELS;
    }
  }
  /* Gray: one lane only, so a stricter bar (byte tables are smooth too). */
  lanes(page, 1, 3, near, far);
  if (judge(near, far, 1, -1, &varied, &ratio) == 1 && ratio < 0.25 && ratio < best) {
    *format = HW_PIXEL_GRAY8;
    cls = HW_RAW_PIXELS;
  }
  return cls;
}
