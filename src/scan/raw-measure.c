/* The geometry of a run of raw pixel pages: the row stride in bytes (any number, not
 * only a multiple of the pixel size: rows padded to 4 or 64 bytes are common), the
 * width inside it (padding columns are constant or unrelated to the rows above), where
 * the rows start, and how far up and down the picture goes.
 *
 * The stride is the distance at which bytes best predict the byte below them. Only
 * bytes that are smooth along their row take part, so a dithered or noisy channel does
 * not hide the others. Candidates are judged by their misfits (bytes that do not
 * continue the row above): periodic content repeats at its tile width too, but only
 * the true width lines the whole picture up, its non-periodic parts included. */
#include "scan/find-raw.h"
#include <haywire/physmem.h>

#include <stdlib.h>
#include <string.h>

#define MIN_WIDTH 32u
#define MAX_WIDTH 4096u
#define MAX_PAD 512u              /* padding bytes at most, beyond the pixels of a row */
#define MIN_ROWS 8u
#define NARROW 64u                /* pixels: a narrower stride is held to a higher bar */
#define MAX_MEASURE (4u << 20)    /* bytes of a run used to find the stride */
#define N_POS 4096u               /* sample positions for the exact scores */
#define COARSE 64u                /* of them, for the coarse score of every stride */
#define CANDIDATES 12u
#define H_SMOOTH 24               /* a byte takes part when its row neighbour is this close */
#define MISFIT 40                 /* a byte misfits when the byte below differs more */
#define MAX_MISFITS 0.2           /* the share of misfits a picture's stride may have */
#define EARLY_MISFITS 0.35        /* above MAX_MISFITS, with a margin */
#define CLIP 64
#define MAX_EXTEND 4096u          /* rows looked at beyond the run at each end */
#define MAX_ANISOTROPY 2.0        /* see anisotropy() (tuned on the benchmark's tuning half) */
#define ANISOTROPY_FLOOR 2.0
#define CLEAN_MISFITS 0.02        /* see measured() (tuned on the tuning half) */
#define CLEAN_ANISOTROPY 1.5
#define CLEAN_TYPICAL 1.0         /* ... and the typical stride's score at least this */
#define NEAR_BAR 0.2              /* see measured() (tuned on the tuning half) */
#define NEAR_MISFITS 0.15
#define SEAM_RANGE 4              /* strides tried on either side of the chosen one */
#define SEAM_MIN 2.0              /* see seam_strength() (tuned on the tuning half) */
#define SEAM_ROWS 64u              /* rows seam_strength() looks at, at most */
#define SEAM_OVER 1.5              /* ... and at least this many times the chosen one's */

typedef struct {
  const guint8 *buf;
  gsize n;
  guint bpp;                      /* 1, 2 (rgb565), 3 or 4 */
  int skip_lane;                  /* 32-bit: the alpha/padding lane (address mod 4), or -1 */
  guint channels;                 /* rgb565: the channels compared (bits 0-2) and how many, */
  guint n_channels;               /* see drop_dithered_channel() */
  guint32 *pos;                   /* sample positions (byte offsets; pixel starts for 565) */
  guint n_pos;
  gboolean pairs;                 /* gray8 dithered by pixel and row: see dithered_gray() */
} Measure;

static inline guint
px565(const guint8 *p, guint c)
{
  guint v = p[0] | (guint)p[1] << 8;
  return c == 0 ? (v >> 11) << 3 : c == 1 ? ((v >> 5) & 63) << 2 : (v & 31) << 3;
}

/* The summed differences of the channels M compares between the rgb565 pixels at A and
 * B. */
static inline guint
diff565(const Measure *m, const guint8 *a, const guint8 *b)
{
  guint s = 0;
  for (guint c = 0; c < 3; c++)
    if (m->channels & (1u << c))
      s += (guint)abs((int)px565(a, c) - (int)px565(b, c));
  return s;
}

/* The difference of two gray pixels of a picture dithered pixel by pixel, at A and B:
 * of each with the next (one bright and one dark in either phase of the dither). */
static inline guint
diff_pairs(const guint8 *a, const guint8 *b)
{
  return (guint)abs((int)a[0] + (int)a[1] - (int)b[0] - (int)b[1]) / 2;
}

/* Difference between the sample at I and the one D bytes on. */
static inline guint
diff_at(const Measure *m, gsize i, gsize d)
{
  if (m->bpp == 2)
    return diff565(m, m->buf + i, m->buf + i + d) / m->n_channels;
  if (m->pairs)
    return diff_pairs(m->buf + i, m->buf + i + d);
  return (guint)abs((int)m->buf[i] - (int)m->buf[i + d]);
}

/* The byte to sample for I: the start of its pixel for rgb565, not the alpha or
 * padding lane of 32-bit pixels. */
static inline gsize
sample_at(const Measure *m, gsize i)
{
  if (m->bpp == 2)
    return i & ~(gsize)1;
  return m->skip_lane >= 0 && (int)(i % 4) == m->skip_lane ? i + 1 : i;
}

/* Sample positions in [0, LIMIT): bytes smooth along their row, spread evenly. */
static void
pick_positions(Measure *m, gsize limit)
{
  gsize step = MAX(limit / (N_POS * 2), 1);
  /* A step of whole pixels would sample one channel only: a dithered one hides all. */
  if (m->bpp > 1 && step % m->bpp == 0)
    step++;
  m->n_pos = 0;
  for (gsize i = 0; i + m->bpp + 1 < limit && m->n_pos < N_POS; i += step) {
    gsize at = sample_at(m, i);
    guint d = at + m->bpp + 1 < limit ? diff_at(m, at, m->bpp) : G_MAXUINT;
    /* White or black backgrounds line up at every stride: they tell nothing. */
    if (d > H_SMOOTH || (d == 0 && (m->buf[at] == 0xff || m->buf[at] == 0)))
      continue;
    m->pos[m->n_pos++] = (guint32)at;
  }
}

/* Mean clipped difference at stride P over every K-th sample. */
static double
coarse_score(const Measure *m, gsize p, guint k)
{
  guint64 s = 0;
  guint n = 0;
  if (m->bpp == 2 || m->pairs) {
    for (guint i = 0; i < m->n_pos; i += k, n++)
      s += MIN(diff_at(m, m->pos[i], p), (guint)CLIP);
  } else {
    /* The bytes themselves (diff_at without its rgb565 branch: the hot loop). */
    const guint8 *b = m->buf;
    for (guint i = 0; i < m->n_pos; i += k, n++) {
      gsize at = m->pos[i];
      s += MIN((guint)abs((int)b[at] - (int)b[at + p]), (guint)CLIP);
    }
  }
  return n ? (double)s / n : 0;
}

typedef guint8 V8u8 __attribute__((vector_size(8)));
typedef guint16 V8u16 __attribute__((vector_size(16)));

/* |A - B| of unsigned 16-bit lanes. */
static inline V8u16
absdiff16(V8u16 a, V8u16 b)
{
  V8u16 above = (V8u16)(a > b);
  return ((a - b) & above) | ((b - a) & ~above);
}

static inline V8u16
min16(V8u16 a, V8u16 b)
{
  V8u16 less = (V8u16)(a < b);
  return (a & less) | (b & ~less);
}

/* The three channels of 8 rgb565 pixels, scaled to 0-255 as px565() does. */
static inline void
channels16(V8u16 v, V8u16 ch[3])
{
  ch[0] = (v >> 11) << 3;
  ch[1] = ((v >> 5) & 63) << 2;
  ch[2] = (v & 31) << 3;
}

/* coarse_score() of every stride PMIN + I * PSTEP (I < COUNT) into SCORE, all strides
 * at once: a sample's partners at consecutive strides are consecutive bytes (16-bit
 * pixels for rgb565), 8 strides per vector (GCC/Clang vector extensions), the sums in
 * 16 bits (at most 127 samples of at most CLIP each). The same numbers as
 * coarse_score(), several times faster: this is most of a run's measuring. */
static void
coarse_scores(const Measure *m, gsize pmin, gsize pstep, gsize count, guint k, double *score)
{
  guint samples = (m->n_pos + k - 1) / k;
  if (samples * CLIP > G_MAXUINT16 || (m->bpp == 2 && G_BYTE_ORDER != G_LITTLE_ENDIAN) ||
      m->pairs) {
    for (gsize i = 0; i < count; i++)
      score[i] = coarse_score(m, pmin + i * pstep, k);
    return;
  }
  /* Bytes: every byte stride from PMIN on (a 32-bit run uses every fourth); rgb565:
   * every pixel stride. */
  gsize per = m->bpp == 2 ? 2 : 1, span = ((count - 1) * pstep) / per + 1;
  gsize blocks = (span + 7) / 8;
  g_autofree V8u16 *acc = g_new0(V8u16, blocks);
  const V8u16 clip = (V8u16){ 0 } + CLIP;
  for (guint i = 0; i < m->n_pos; i += k) {
    /* The buffer has slack for the last block. */
    const guint8 *at = m->buf + m->pos[i], *q = at + pmin;
    if (m->bpp == 2) {
      V8u16 a[3], on[3];
      channels16((V8u16){ 0 } + (guint16)(at[0] | at[1] << 8), a);
      for (guint ch = 0; ch < 3; ch++)
        on[ch] = (V8u16){ 0 } + (guint16)((m->channels >> ch) & 1);
      for (gsize j = 0; j < blocks; j++) {
        V8u16 y, c[3];
        memcpy(&y, q + 16 * j, 16);
        channels16(y, c);
        V8u16 d = (absdiff16(a[0], c[0]) * on[0] + absdiff16(a[1], c[1]) * on[1] +
                   absdiff16(a[2], c[2]) * on[2]) / (guint16)m->n_channels;
        acc[j] += min16(d, clip);
      }
    } else {
      V8u16 a = (V8u16){ 0 } + at[0];
      for (gsize j = 0; j < blocks; j++) {
        V8u8 x;
        memcpy(&x, q + 8 * j, 8);
        acc[j] += min16(absdiff16(a, __builtin_convertvector(x, V8u16)), clip);
      }
    }
  }
  for (gsize i = 0; i < count; i++) {
    gsize at = i * pstep / per;
    score[i] = samples ? (double)acc[at / 8][at % 8] / samples : 0;
  }
}

/* Fraction of the samples that misfit at stride P, and (SCORE) coarse_score() over
 * every sample. An eighth of them, spread over the run, first: a stride that misfits
 * at more than EARLY_MISFITS of those is no candidate, and its fraction so far is
 * close enough (most strides of most runs end there; SCORE is then not computed). */
static double
misfits(const Measure *m, gsize p, double *score)
{
  guint bad = 0, seen = 0;
  guint64 sum = 0;
  *score = -1;
  for (guint i = 0; i < m->n_pos; i += 8, seen++) {
    guint d = diff_at(m, m->pos[i], p);
    bad += d > MISFIT;
    sum += MIN(d, (guint)CLIP);
  }
  if (seen == 0 || (double)bad / seen > EARLY_MISFITS)
    return seen ? (double)bad / seen : 1;
  for (guint i = 0; i < m->n_pos; i++)
    if (i % 8) {
      guint d = diff_at(m, m->pos[i], p);
      bad += d > MISFIT;
      sum += MIN(d, (guint)CLIP);
    }
  *score = (double)sum / m->n_pos;
  return (double)bad / m->n_pos;
}

/* The lane (address mod 4) of a 32-bit run whose byte is nearly always 0xff or 0. */
static int
alpha_lane(const guint8 *buf, gsize n, guint64 addr)
{
  guint count[4] = { 0 }, total = 0;
  for (gsize i = 0; i + 4 <= MIN(n, (gsize)65536); i += 4, total++)
    for (guint l = 0; l < 4; l++)
      count[l] += buf[i + l] == 0xff || buf[i + l] == 0;
  for (guint l = 0; l < 4; l++)
    if (count[l] * 10 >= total * 9)
      return (int)((addr + l) % 4);
  return -1;
}

static int
compare_guint(const void *a, const void *b)
{
  guint x = *(const guint *)a, y = *(const guint *)b;
  return x < y ? -1 : x > y;
}

/* The stretch of at most MAX_LEN of the N columns from FROM (cyclic in S) where columns
 * marked in BAD most outnumber the others: its start, length and how many more bad
 * columns than good it holds (0: none). Prefix sums with a queue of their minima. */
static glong
padding_stretch(const guint8 *bad, gsize s, gsize from, gsize n, gsize max_len, gsize *start,
                gsize *len)
{
  g_autofree glong *prefix = g_new(glong, n + 1);
  g_autofree gsize *queue = g_new(gsize, n + 1);
  gsize head = 0, tail = 0;
  glong best = 0;
  *start = from;
  *len = 0;
  prefix[0] = 0;
  for (gsize t = 1; t <= n; t++) {
    prefix[t] = prefix[t - 1] + (bad[(from + t - 1) % s] ? 1 : -1);
    /* Window ends at t; its start i in [t - max_len, t - 1], the least prefix. */
    while (tail > head && prefix[queue[tail - 1]] >= prefix[t - 1])
      tail--;
    queue[tail++] = t - 1;
    while (queue[head] + max_len < t)
      head++;
    glong sum = prefix[t] - prefix[queue[head]];
    if (sum > best) {
      best = sum;
      *start = (from + queue[head]) % s;
      *len = t - queue[head];
    }
  }
  return best;
}

/* Which byte columns of stride S belong to the picture: all but the row padding, if
 * there is any. Padding is one stretch of columns (cyclic: rows need not start on the
 * stride) that either hold zeros or do not continue the row above nearly as well as
 * the picture's columns do (memory left as it was). Detail in the picture makes
 * columns misfit too, but not as one stretch that stands out: the padding must be the
 * longest such stretch by far, else there is none. *START: the first picture column. */
static gsize
picture_columns(const Measure *m, gsize s, gsize *start)
{
  /* Pairs of rows spread over the run (its first rows may be memory before the
   * picture), at most 64. */
  gsize all = m->n / s, rows = MIN(all, (gsize)65);
  gsize every = all > 1 ? MAX((all - 1) / 64, (gsize)1) : 1;
  *start = 0;
  if (rows < 2)
    return 0;
  /* Per column: its mean difference to the row below (V), whether it is nearly always
   * zero (ZERO) or at least half the time (HALF_ZERO), and its mean difference over
   * the rows where it and the row below are not both zero (MOVED). */
  g_autofree guint *v = g_new0(guint, s), *moved = g_new0(guint, s);
  g_autofree guint8 *zero = g_malloc0(s), *half_zero = g_malloc0(s);
  gsize unit = m->bpp == 2 ? 2 : 1;   /* rgb565 columns by their decoded pixels */
  for (gsize k = 0; k + unit <= s; k += unit) {
    guint64 sum = 0, sum_moved = 0;
    guint zeros = 0, n_moved = 0;
    for (gsize r = 0; r + 1 < rows; r++) {
      gsize at = r * every * s + k;
      const guint8 *a = m->buf + at;
      guint d = unit == 2 || m->pairs ? diff_at(m, at, s) : (guint)abs((int)a[0] - (int)a[s]);
      /* Dithered gray: the pixel's pair with the one before it too, for the last
       * column (its pair with the next row's first pixel is no pair of phases). */
      if (m->pairs && at > 0)
        d = MIN(d, diff_pairs(a - 1, a - 1 + s));
      d = MIN(d, (guint)CLIP);
      gboolean z = a[0] == 0 && a[unit - 1] == 0;
      sum += d;
      zeros += z;
      if (!(z && a[s] == 0 && a[s + unit - 1] == 0))
        sum_moved += d, n_moved++;
    }
    v[k] = v[k + unit - 1] = (guint)(sum / (rows - 1));
    moved[k] = moved[k + unit - 1] = n_moved ? (guint)(sum_moved / n_moved) : 0;
    zero[k] = zero[k + unit - 1] = zeros * 10 >= (rows - 1) * 9;
    half_zero[k] = half_zero[k + unit - 1] = zeros * 2 >= rows - 1;
  }
  if (s % unit)
    v[s - 1] = CLIP, zero[s - 1] = half_zero[s - 1] = 0, moved[s - 1] = 0;
  g_autofree guint *sorted = g_memdup2(v, s * sizeof(guint));
  qsort(sorted, s, sizeof(guint), compare_guint);
  guint median = sorted[s / 2], junk = MAX(2 * median, median + 16);
  g_autofree guint8 *bad = g_malloc(s);
  gsize n_bad = 0;
  /* Padding left as memory was that is mostly zero: where it is not, it does not
   * continue the row above (a dark edge of the picture, zero as often, does). */
  for (gsize k = 0; k < s; k++)
    bad[k] = zero[k] || v[k] > junk || (half_zero[k] && moved[k] > junk);
  /* The alpha/padding byte of 32-bit pixels goes with its neighbours: in the padding
   * when both are. */
  for (gsize k = 0; m->skip_lane >= 0 && k < s; k++)
    if ((int)(k % 4) == m->skip_lane)
      bad[k] = bad[(k + s - 1) % s] && bad[(k + 1) % s];
  for (gsize k = 0; k < s; k++)
    n_bad += bad[k];
  if (n_bad == s)
    return 0;
  /* The longest and second longest cyclic stretches of padding-like columns. */
  gsize best_len = 0, best_start = 0, second_len = 0;
  for (gsize k = 0; k < s; k++) {
    if (!bad[k] || bad[(k + s - 1) % s])
      continue;
    gsize len = 0;
    while (len < s && bad[(k + len) % s])
      len++;
    if (len > best_len)
      second_len = best_len, best_len = len, best_start = k;
    else if (len > second_len)
      second_len = len;
  }
  /* 16- and 32-bit rows are padded by whole pixels: a shorter stretch is an edge of
   * the picture (a channel at zero in the first column). */
  gsize least = m->bpp == 2 || m->bpp == 4 ? m->bpp : 1;
  if (best_len < least || best_len > MAX_PAD || best_len < 2 * second_len + 1) {
    /* None stands out: memory left in the padding may continue down a row in places.
     * The stretch where padding-like columns most outnumber the others, then, if the
     * best such stretch among the other columns scores far less. */
    gsize other_start, other_len;
    glong best = padding_stretch(bad, s, 0, s, MIN((gsize)MAX_PAD + 1, s - 1), &best_start,
                                 &best_len);
    glong second = padding_stretch(bad, s, (best_start + best_len) % s, s - best_len,
                                   MIN((gsize)MAX_PAD + 1, s - best_len), &other_start,
                                   &other_len);
    if (best < (glong)least || best_len > MAX_PAD || best < 2 * second + 1)
      return s;
  }
  *start = (best_start + best_len) % s;
  return s - best_len;
}

/* Whether the pixel of BPP bytes at A continues the one at B: most of its bytes close
 * (a dithered channel's byte may not be), or for rgb565 its decoded channels; for
 * dithered gray, with the next pixel (A[1] and B[1] are read). */
static inline gboolean
pixel_fits(const guint8 *a, const guint8 *b, const Measure *m)
{
  guint bpp = m->bpp;
  if (bpp == 2)
    return diff565(m, a, b) <= m->n_channels * MISFIT;
  if (m->pairs)
    return diff_pairs(a, b) <= MISFIT;
  guint fit = 0;
  for (guint k = 0; k < bpp; k++)
    fit += abs((int)a[k] - (int)b[k]) <= MISFIT;
  return fit * 2 > bpp;
}

/* Whether ROW (WIDTH bytes of BPP-byte pixels) continues ABOVE as picture rows do, and
 * is not all zero: three pixels in four fit (detailed or noisy rows of a picture miss
 * more than one in eight; unrelated memory misses most). */
static gboolean
row_continues(const guint8 *row, const guint8 *above, gsize width, const Measure *m)
{
  guint bpp = m->bpp;
  guint bad = 0, nonzero = 0, n = 0;
  for (gsize k = 0; k + bpp + (m->pairs ? 1 : 0) <= width; k += bpp, n++)
    bad += !pixel_fits(row + k, above + k, m);
  for (gsize k = 0; k < width; k++)
    nonzero += row[k] != 0;
  return nonzero > 0 && bad * 4 < n;
}

/* How many bytes at the end of the row before FIRST continue the picture: its rows
 * need not start where our row phase put them (a picture without padding starts at
 * any byte). */
static gsize
partial_row(const HwReader *r, guint64 first, gsize stride, const Measure *m)
{
  guint bpp = m->bpp;
  if (first < stride)
    return 0;
  g_autofree guint8 *prev = g_malloc(stride), *cur = g_malloc(stride);
  if (!hw_reader_read(r, first - stride, prev, stride) || !hw_reader_read(r, first, cur, stride))
    return 0;
  /* Back from the row's end, byte by byte (a picture starts at any byte, whatever its
   * pixel size), until two bytes in a row do not fit. */
  gsize best = 0, run = 0;
  for (gsize len = m->pairs ? 2 : 1; len <= stride; len++) {
    gsize j = stride - len;
    if ((prev[j] | cur[j]) == 0)
      continue;   /* zero over zero: no evidence either way */
    guint d = m->pairs ? diff_pairs(prev + j, cur + j) : (guint)abs((int)prev[j] - (int)cur[j]);
    if (d <= MISFIT) {
      run = 0;
      best = len;
    } else if (++run == 2) {
      break;
    }
  }
  /* 32-bit and 16-bit pixels keep the alignment their alpha lane or parity gave. */
  if (bpp == 4 || bpp == 2) {
    /* To the nearest pixel (a zero byte at either end is no evidence), then back while
     * that first pixel does not fit as a whole (one byte close by chance). */
    best = MIN((best + bpp / 2) / bpp * bpp, stride / bpp * bpp);
    while (best >= bpp && !pixel_fits(prev + stride - best, cur + stride - best, m))
      best -= bpp;
  }
  return MIN(best, stride);
}

/* Extend FIRST (address of the first row) up, and *ROWS down, by rows that continue
 * the picture, reading through R. */
static void
extend(const HwReader *r, guint64 *first, guint64 *rows, gsize stride, gsize width,
       const Measure *m)
{
  g_autofree guint8 *edge = g_malloc(width), *next = g_malloc(width);
  /* The run may begin in memory before the picture: drop rows that the row below
   * does not continue (zero rows above a picture included). */
  while (*rows > 2 && hw_reader_read(r, *first, edge, width) &&
         hw_reader_read(r, *first + stride, next, width) && !row_continues(edge, next, width, m)) {
    *first += stride;
    (*rows)--;
  }
  if (!hw_reader_read(r, *first, edge, width))
    return;
  for (guint i = 0; i < MAX_EXTEND && *first >= stride; i++) {
    if (!hw_reader_read(r, *first - stride, next, width) || !row_continues(next, edge, width, m))
      break;
    *first -= stride;
    (*rows)++;
    memcpy(edge, next, width);
  }
  /* The run may end in memory after the picture: drop rows that do not continue. */
  guint64 last = *first + (*rows - 1) * stride;
  while (*rows > 2 && hw_reader_read(r, last, next, width) &&
         hw_reader_read(r, last - stride, edge, width) && !row_continues(next, edge, width, m)) {
    last -= stride;
    (*rows)--;
  }
  if (!hw_reader_read(r, last, edge, width))
    return;
  for (guint i = 0; i < MAX_EXTEND; i++) {
    if (!hw_reader_read(r, last + stride, next, width) || !row_continues(next, edge, width, m))
      break;
    last += stride;
    (*rows)++;
    memcpy(edge, next, width);
  }
}

/* How many bytes at the start of the row at FIRST do not continue into the row below
 * (what lies before the picture in its first page); whole pixels of BPP bytes. */
static gsize
leading_junk(const HwReader *r, guint64 first, gsize stride, const Measure *m)
{
  guint bpp = m->bpp;
  g_autofree guint8 *cur = g_malloc(stride), *below = g_malloc(stride);
  if (!hw_reader_read(r, first, cur, stride) || !hw_reader_read(r, first + stride, below, stride))
    return 0;
  gsize k0 = 0;
  /* Zero memory before the picture: zero pixels over non-zero ones. */
  for (; k0 + bpp <= stride; k0 += bpp) {
    gboolean zero = TRUE, below_zero = TRUE;
    for (guint b = 0; b < bpp; b++)
      zero &= cur[k0 + b] == 0, below_zero &= below[k0 + b] == 0;
    if (!zero || below_zero)
      break;
  }
  for (gsize k = k0; k + 16 < stride; k += bpp) {
    guint bad = 0;
    for (gsize j = k; j + bpp <= k + 16; j += bpp)
      bad += !pixel_fits(cur + j, below + j, m);
    if (bad == 0)
      return k;
  }
  return 0;
}

/* The value that would be at index K of V[0, N) sorted (K < N); V is reordered.
 * Quickselect: the median of thousands of stride scores without sorting them. */
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
    /* Now v[lo, j] <= pivot <= v[i, hi], and anything between equals the pivot. */
    if (k <= j && j != (gsize)-1 && i > j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      return v[k];
  }
  return v[k];
}

/* An rgb565 run whose pixels alternate in one channel (ordered dithering: each pixel
 * much further from the next than from pixels anywhere else) is compared by its two
 * other channels: the dithered one would misfit everywhere and hide them. Noise (as far
 * from the next pixel as from any) keeps its channel: tables of 16-bit numbers look
 * like pixels with a noisy low channel, and only all three channels tell them apart. */
static void
drop_dithered_channel(Measure *m)
{
  guint64 near[3] = { 0 }, far[3] = { 0 };
  gsize pixels = m->n / 2, step = MAX(pixels / 8192, (gsize)1);
  if (pixels < 64)
    return;
  for (gsize i = 0, j = pixels / 3; i + 1 < pixels; i += step, j = (j + 7919) % pixels)
    for (guint c = 0; c < 3; c++) {
      int v = (int)px565(m->buf + 2 * i, c);
      near[c] += (guint)abs(v - (int)px565(m->buf + 2 * i + 2, c));
      far[c] += (guint)abs(v - (int)px565(m->buf + 2 * j, c));
    }
  for (guint c = 0; c < 3; c++)
    if (2 * near[c] > 3 * far[c]) {
      m->channels = 7u & ~(1u << c);
      m->n_channels = 2;
      return;
    }
}

/* Summed differences of bytes spread over BUF[0, N) to the next byte (*NEAR), to the one
 * after it (*NEXT) and to bytes far away (*FAR). */
static void
byte_differences(const guint8 *buf, gsize n, guint64 *near, guint64 *next, guint64 *far)
{
  gsize step = MAX(n / 8192, (gsize)1) | 1;
  *near = *next = *far = 0;
  for (gsize i = 0, j = n / 3; i + 2 < n; i += step, j = (j + 7919) % n) {
    *near += (guint)abs((int)buf[i] - (int)buf[i + 1]);
    *next += (guint)abs((int)buf[i] - (int)buf[i + 2]);
    *far += (guint)abs((int)buf[i] - (int)buf[j]);
  }
}

/* Whether bytes whose byte_differences() are NEAR, NEXT and FAR alternate: each is far
 * from the next, as none is from the one after that. */
static inline gboolean
alternating(guint64 near, guint64 next, guint64 far)
{
  return near > 3 * next && 4 * next < far;
}

/* Whether the N bytes at BUF are gray pixels dithered pixel by pixel (a checkerboard
 * over the picture): each far from the next, as none is from the one after that.
 * Such a picture is measured by pairs of pixels, one of each phase. */
static gboolean
dithered_gray(const guint8 *buf, gsize n)
{
  guint64 near, next, far;
  if (n < 1024)
    return FALSE;
  byte_differences(buf, n, &near, &next, &far);
  return alternating(near, next, far);
}

/* A run's bytes read for measuring, its samples and the coarse score of every stride
 * it may have. */
typedef struct {
  Measure m;
  guint8 *buf;
  guint32 *pos;
  double *score;          /* coarse score of stride pmin + i * pstep */
  gsize pmin, pmax, pstep, count;
} Run;

static void
run_clear(Run *run)
{
  g_free(run->buf);
  g_free(run->pos);
  g_free(run->score);
}

/* Read [ADDR, ADDR + LEN) (its first MAX_MEASURE bytes) as pixels of format F, pick the
 * samples and score every stride; FALSE (RUN cleared) if the run cannot be measured. */
static gboolean
run_begin(const HwReader *r, guint64 addr, guint64 len, HwPixelFormat f, Run *run)
{
  guint bpp = f == HW_PIXEL_RGB565 ? 2 : hw_pixel_format_bits(f) / 8;
  gsize n = (gsize)MIN(len, (guint64)MAX_MEASURE);
  *run = (Run){ 0 };
  if (bpp < 1 || bpp > 4 || n < MIN_WIDTH * bpp * 4)
    return FALSE;
  /* Slack after the run's bytes: coarse_scores() reads a stride block past them. */
  run->buf = g_malloc0(n + 16);
  run->pos = g_new(guint32, N_POS);
  run->m = (Measure){ .buf = run->buf, .n = n, .bpp = bpp, .skip_lane = -1, .pos = run->pos,
                      .channels = 7, .n_channels = 3 };
  Measure *m = &run->m;
  if (!hw_reader_read(r, addr, run->buf, n))
    goto fail;
  if (bpp == 4)
    m->skip_lane = alpha_lane(run->buf, n, 0);
  if (bpp == 2)
    drop_dithered_channel(m);
  if (bpp == 1)
    m->pairs = dithered_gray(run->buf, n);
  /* Strides to try: from the narrowest picture to the widest with padding, at most a
   * quarter of the run (four rows); 32-bit and 16-bit rows keep their alignment. */
  run->pmin = MIN_WIDTH * bpp;
  run->pmax = MIN((gsize)MAX_WIDTH * bpp + MAX_PAD, n / 4);
  run->pstep = bpp == 4 ? 4 : bpp == 2 ? 2 : 1;
  if (run->pmax < run->pmin + 2 * run->pstep)
    goto fail;
  pick_positions(m, n - run->pmax - 4);
  if (m->n_pos < 256)
    goto fail;
  run->count = (run->pmax - run->pmin) / run->pstep + 1;
  run->score = g_new(double, run->count);
  coarse_scores(m, run->pmin, run->pstep, run->count, MAX(m->n_pos / COARSE, 1u), run->score);
  return TRUE;
fail:
  run_clear(run);
  *run = (Run){ 0 };
  return FALSE;
}

/* A local minimum of the coarse score, looked at exactly with its neighbours. */
typedef struct {
  gsize fit_p;            /* the neighbour with the fewest misfits, and their share */
  double fit;
  gsize key_p;            /* the neighbour that fits closest (see below), its key, misfits */
  double key, key_fit;
} Candidate;

/* How closely rows fit at a stride with exact score SCORE (-1: not computed) and FIT
 * misfits, lower is closer: misfits weigh heavily, as a tile width fits its tiled part
 * exactly and the rest not at all. A stride past the misfit bar never wins. */
static inline double
fit_key(double score, double fit)
{
  return fit > EARLY_MISFITS || score < 0 ? 1e9 - fit : score * (1 + 4 * fit);
}

/* The lowest strict local minima of RUN's coarse score, at most CANDIDATES, each looked
 * at exactly; how many. */
static gsize
run_candidates(const Run *run, Candidate *out)
{
  const double *score = run->score;
  gsize cand[CANDIDATES], n_cand = 0;
  for (gsize i = 1; i + 1 < run->count; i++) {
    if (!(score[i] < score[i - 1] && score[i] <= score[i + 1]))
      continue;
    if (n_cand == CANDIDATES && score[i] >= score[cand[n_cand - 1]])
      continue;
    gsize j = n_cand < CANDIDATES ? n_cand++ : CANDIDATES - 1;
    for (; j > 0 && score[cand[j - 1]] > score[i]; j--)
      cand[j] = cand[j - 1];
    cand[j] = i;
  }
  gsize pmin = run->pmin, pstep = run->pstep;
  for (gsize c = 0; c < n_cand; c++) {
    /* The coarse score is noisy: the exact neighbours of a minimum are tried too. */
    gsize center = pmin + cand[c] * pstep, lo = center - MIN(center - pmin, 2 * pstep);
    Candidate *o = &out[c];
    *o = (Candidate){ .fit_p = center, .fit = 2, .key_p = center, .key = 1e9, .key_fit = 2 };
    for (gsize p = lo; p <= MIN(center + 2 * pstep, run->pmax); p += pstep) {
      double score_p, fit = misfits(&run->m, p, &score_p), key = fit_key(score_p, fit);
      if (key < o->key)
        o->key = key, o->key_fit = fit, o->key_p = p;
      if (fit < o->fit)
        o->fit = fit, o->fit_p = p;
    }
  }
  return n_cand;
}

/* The stride RUN's pixels have, from candidates C (N of them), and its misfits: the
 * closest fit, but a stride it is a multiple of, within a whisker of it, wins over it (a
 * smooth picture lines up at twice its width nearly as well). */
static gsize
choose_stride(const Candidate *c, gsize n, double *mis)
{
  double best_key = 1e9;
  gsize stride = 0;
  *mis = 2;
  for (gsize i = 0; i < n; i++)
    if (c[i].key < best_key)
      best_key = c[i].key, *mis = c[i].key_fit, stride = c[i].key_p;
  double best_mis = *mis;
  for (gsize i = 0; i < n; i++)
    if (c[i].fit_p < stride && stride % c[i].fit_p == 0 && c[i].fit <= best_mis * 1.1 + 0.005)
      stride = c[i].fit_p;
  return stride;
}

/* The width of a picture of stride S in RUN: its columns less the row padding, in
 * whole pixels; *COL0 the first picture column, *COLS the columns (S: no padding). */
static gsize
picture_width(const Run *run, gsize s, gsize *col0, gsize *cols_out)
{
  const Measure *m = &run->m;
  gsize cols = picture_columns(m, s, col0);
  *cols_out = cols;
  if (m->bpp == 4 && m->skip_lane >= 0) {
    /* Rows start just after an alpha/padding byte: the nearest such column (a zero
     * byte of the picture's edge may have joined the padding). */
    gsize want = (gsize)(m->skip_lane + 1) % 4, off = (want + 4 - *col0 % 4) % 4;
    *col0 = off <= 2 ? *col0 + off : *col0 + s - (4 - off);
    *col0 %= s;
  }
  /* The padding found may be a byte longer or shorter than it is (an edge byte of the
   * picture close to the padding's): the nearest whole number of pixels. */
  return MIN((cols + m->bpp / 2) / m->bpp, s / m->bpp);
}

/* Whether the ROWS rows of WIDTH pixels (BPP bytes) from FIRST, STRIDE apart, are one
 * sequence cut into rows rather than a picture: each row's first pixel follows the row
 * above's last one by exactly the step between its own first two pixels (a table of
 * consecutive numbers or characters lines up at any stride). A picture's left and right
 * edges do not meet like that, unless both are one colour (a step of zero, not counted). */
static gboolean
one_sequence(const HwReader *r, guint64 first, guint64 rows, gsize stride, gsize width,
             guint bpp)
{
  guint seen = 0, same = 0;
  guint64 step = MAX(rows / 64, (guint64)1);
  for (guint64 y = 0; y + 1 < rows && seen < 64; y += step) {
    guint8 last[4], next[8];
    if (!hw_reader_read(r, first + y * stride + (width - 1) * bpp, last, bpp) ||
        !hw_reader_read(r, first + (y + 1) * stride, next, 2 * bpp))
      break;
    gboolean moving = FALSE, follows = TRUE;
    for (guint k = 0; k < bpp; k++) {
      int inner = (int)next[bpp + k] - (int)next[k], wrap = (int)next[k] - (int)last[k];
      moving |= inner != 0;
      follows &= inner == wrap;
    }
    if (!moving)
      continue;
    seen++;
    same += follows;
  }
  return seen >= 4 && same * 2 >= seen;
}

/* How much more a byte differs from the one a row below it than from the one a pixel
 * on, over bytes spread evenly over the run (every byte, not only those smooth along
 * their row; the alpha or padding lane left out). A picture is about as smooth down
 * as across (a ratio near 1); tables that line up at some stride by their layout are
 * much rougher down than across. Differences across of less than ANISOTROPY_FLOOR
 * count as that much: in a very smooth picture (a synthetic gradient) one edge down
 * would weigh more than all its rows. */
static double
anisotropy(const Measure *m, gsize stride)
{
  guint64 across = 0, down = 0, n = 0;
  if (m->n < stride + 16)
    return G_MAXDOUBLE;
  gsize span = m->n - stride - 8, step = MAX(span / 8192, (gsize)1);
  if (m->bpp > 1 && step % m->bpp == 0)
    step++;   /* every channel, as in pick_positions() */
  for (gsize i = 0; i < span; i += step, n++) {
    gsize at = sample_at(m, i);
    across += MIN(diff_at(m, at, m->bpp), (guint)CLIP);
    down += MIN(diff_at(m, at, stride), (guint)CLIP);
  }
  return (double)down / MAX((double)across, ANISOTROPY_FLOOR * (double)n);
}

/* The picture of stride STRIDE (with BEST_MIS misfits) in RUN, read from [ADDR, ADDR +
 * LEN): its confidence, width, first row and height in OUT; FALSE if it falls short. */
static gboolean
measured(const HwReader *r, guint64 addr, guint64 len, HwPixelFormat f, const Run *run,
         gsize stride, double best_mis, HwImage *out)
{
  const Measure *m = &run->m;
  gsize count = run->count, bpp = m->bpp;
  /* Against the typical stride's score: a picture lines up at one stride only. */
  g_autofree double *copy = g_memdup2(run->score, count * sizeof(double));
  double here = coarse_score(m, stride, 1), typical = select_kth(copy, count, count / 2);
  double confidence = typical > 0 ? 1.0 - here / typical : 0;
  /* Tables of 16-bit numbers and narrow arrays of structures line up too: a higher
   * bar for them (tuned on the benchmark's tuning half). */
  gboolean narrow = stride < NARROW * bpp;
  double bar = narrow ? 0.9 : bpp == 2 ? 0.8 : 0.6;
  /* A smooth picture lines up at every stride near its own (diagonals) and fairly well
   * at any: its stride stands out little from the typical one. Rows that fit nearly
   * without a misfit, as smooth down as across, are a picture all the same. */
  double aniso = anisotropy(m, stride);
  gboolean clean = !narrow && best_mis <= CLEAN_MISFITS &&
                   aniso <= CLEAN_ANISOTROPY && typical >= CLEAN_TYPICAL;
  /* Just under the bar, rows that fit well and as smooth down as across are one too. */
  clean |= !narrow && confidence >= bar - NEAR_BAR && best_mis <= NEAR_MISFITS &&
           aniso <= CLEAN_ANISOTROPY;
  if ((confidence < bar && !clean) || best_mis > MAX_MISFITS || aniso > MAX_ANISOTROPY)
    return FALSE;

  /* The picture's columns inside the stride, and where its rows start. */
  gsize col0 = 0, cols = 0, width = picture_width(run, stride, &col0, &cols);
  if (width < MIN_WIDTH)
    return FALSE;
  guint64 first = addr + col0 % stride;
  guint64 rows = (addr + len - first) / stride;
  if (rows < 2)
    return FALSE;
  extend(r, &first, &rows, stride, width * bpp, m);
  if (cols == stride) {   /* no padding: the first row may begin anywhere */
    gsize back = partial_row(r, first, stride, m);
    first -= back;
    if (back == 0)
      first += leading_junk(r, first, stride, m);
    /* Rows of the new phase: the last may go one further. */
    extend(r, &first, &rows, stride, width * bpp, m);
  }
  /* (Single bytes of a smooth gray picture meet by chance too often for that test.) */
  if (rows < MIN_ROWS ||
      (cols == stride && bpp >= 2 && one_sequence(r, first, rows, stride, width, bpp)))
    return FALSE;
  *out = (HwImage){ .kind = HW_IMAGE_RAW, .addr = first, .width = (guint32)width,
                    .height = (guint32)MIN(rows, (guint64)G_MAXUINT32),
                    .stride = (guint32)stride, .format = f,
                    .confidence = CLAMP(confidence, 0.0, 1.0) };
  out->size = (guint64)out->stride * out->height;
  return TRUE;
}

/* How much one byte column of stride P stands out from the others by its difference to
 * the pixel after it, over rows spread over the run: the largest such difference
 * against the median. At a picture's stride, the column where each row's right edge
 * meets the next row's left edge (or its padding) is the same in every row and stands
 * out; at a stride a pixel off, that seam moves a pixel a row and no column does. */
static double
seam_strength(const Measure *m, gsize p)
{
  gsize all = m->n / p;
  if (all < 4 || p < 2 * m->bpp)
    return 0;
  gsize rows = MIN(all - 1, (gsize)SEAM_ROWS), every = MAX((all - 1) / rows, (gsize)1);
  g_autofree guint *h = g_new0(guint, p);
  for (gsize r = 0; r < rows; r++)
    for (gsize c = 0; c < p; c++) {   /* the last pixel's next is the next row's first */
      gsize at = r * every * p + c;
      if (m->bpp == 2 && (c & 1))
        continue;
      h[c] += MIN(diff_at(m, at, m->bpp), (guint)CLIP);
    }
  if (m->bpp == 2)
    for (gsize c = 1; c < p; c += 2)
      h[c] = h[c - 1];
  /* The median by counting: each sum is at most SEAM_ROWS rows of CLIP. */
  guint count[SEAM_ROWS * CLIP + 1] = { 0 }, top = 0, median = 0;
  for (gsize c = 0; c < p; c++) {
    count[h[c]]++;
    top = MAX(top, h[c]);
  }
  for (gsize seen = 0; median < G_N_ELEMENTS(count); median++)
    if ((seen += count[median]) > p / 2)
      break;
  return (double)top / ((double)median + rows);
}

/* The stride of RUN's picture from STRIDE, the one chosen by how rows fit (*MIS its
 * misfits): a stride a few pixels off whose seam stands out where STRIDE's does not
 * (a smooth picture lines up nearly as well along a diagonal as down: that stride is
 * the diagonal's), if its rows fit well enough too. */
static gsize
seam_stride(const Run *run, gsize stride, double *mis)
{
  double here = seam_strength(&run->m, stride);
  gsize best = stride;
  for (int d = -SEAM_RANGE; d <= SEAM_RANGE; d++) {
    gsize off = (gsize)ABS(d) * run->pstep;
    if (d == 0 || (d < 0 && stride < run->pmin + off) || (d > 0 && stride + off > run->pmax))
      continue;
    gsize p = d < 0 ? stride - off : stride + off;
    double strength = seam_strength(&run->m, p), score;
    if (strength < SEAM_MIN || strength < SEAM_OVER * here)
      continue;
    double fit = misfits(&run->m, p, &score);
    if (fit <= MAX_MISFITS) {
      best = p;
      here = strength;
      *mis = fit;
    }
  }
  return best;
}

/* A third or half of STRIDE (chosen with *MIS misfits) at which the rows fit closer
 * (by fit_key(), as run_candidates() ranks), or STRIDE itself. A smooth picture lines up
 * at twice its stride nearly as well as at its own, and its own may not be among the
 * candidates at all (strides a pixel either side of it, along a diagonal, scored lower
 * there); choose_stride() only looks at candidates. A tiled picture lines up at its
 * tile width less closely than at its own: its other parts do not. *MIS becomes the
 * fraction's misfits. */
static gsize
whole_fraction(const Run *run, gsize stride, double *mis)
{
  double score, fit = misfits(&run->m, stride, &score);
  if (score < 0)
    return stride;
  double key = fit_key(score, fit);
  for (gsize k = 3; k >= 2; k--) {
    if (stride % (k * run->pstep) != 0 || stride / k < run->pmin)
      continue;
    double part_score, part_fit = misfits(&run->m, stride / k, &part_score);
    if (part_score >= 0 && fit_key(part_score, part_fit) < key) {
      *mis = part_fit;
      return stride / k;
    }
  }
  return stride;
}

gboolean
hw_raw_measure(const HwReader *r, guint64 addr, guint64 len, HwPixelFormat f, HwImage *out)
{
  Run run;
  if (!run_begin(r, addr, len, f, &run))
    return FALSE;
  Candidate cands[CANDIDATES];
  gsize n_cand = run_candidates(&run, cands);
  double best_mis = 2;
  gsize stride = n_cand ? choose_stride(cands, n_cand, &best_mis) : 0;
  if (stride > 0 && best_mis <= EARLY_MISFITS)   /* else no stride near it fits either */
    stride = seam_stride(&run, stride, &best_mis);
  /* A half or third of it first, if the picture holds there. */
  gboolean ok = FALSE;
  if (stride > 0 && best_mis <= EARLY_MISFITS) {
    double part_mis = best_mis;
    gsize part = whole_fraction(&run, stride, &part_mis);
    ok = part != stride && measured(r, addr, len, f, &run, part, part_mis, out);
  }
  ok = ok || (stride > 0 && measured(r, addr, len, f, &run, stride, best_mis, out));
  /* A gray picture lines up as rgb565 too: its bytes pair up into smooth pixels, at its
   * own stride, or at some multiple of it when dithered pixel by pixel and row by row
   * (a row lines up with the row after next). Its bytes then are each close to the
   * next, or alternate; the low and high bytes of rgb565 pixels are not close. It is
   * measured as gray, and taken if it lines up there: at the same stride, or, dithered,
   * at another (as gray, rgb565 bytes pair up at their own) and as surely. */
  gboolean smooth = FALSE, dithered = FALSE;
  if (ok && f == HW_PIXEL_RGB565) {
    guint64 near, next, far;
    byte_differences(run.buf, run.m.n, &near, &next, &far);
    smooth = far > 0 && near * 4 < far;   /* much closer than bytes far apart */
    dithered = !smooth && run.m.n >= 1024 && alternating(near, next, far);
  }
  run_clear(&run);
  HwImage as_gray;
  if ((smooth || dithered) && hw_raw_measure(r, addr, len, HW_PIXEL_GRAY8, &as_gray) &&
      (smooth ? as_gray.stride == out->stride
              : as_gray.stride != out->stride && as_gray.confidence >= out->confidence))
    *out = as_gray;
  return ok;
}

guint
hw_image_guess_strides(const HwReader *r, guint64 addr, guint64 len, HwPixelFormat f,
                       HwStrideGuess *out, guint max)
{
  Run run;
  if (max == 0 || !run_begin(r, addr, len, f, &run))
    return 0;
  Candidate c[CANDIDATES];
  gsize n = run_candidates(&run, c);
  double mis = 2;
  gsize chosen = n ? choose_stride(c, n, &mis) : 0, picked = chosen;
  if (chosen && mis <= EARLY_MISFITS)
    chosen = seam_stride(&run, chosen, &mis);
  if (chosen && mis <= EARLY_MISFITS)   /* as hw_raw_measure() tries first */
    chosen = whole_fraction(&run, chosen, &mis);
  /* The finder's choice first, then the others by how closely they fit (their key); a
   * stride past the misfit bar is no guess. */
  gsize order[CANDIDATES], n_order = 0;
  for (gsize i = 0; i < n; i++) {
    if (c[i].key_fit > EARLY_MISFITS || c[i].key_p == chosen)
      continue;
    gsize j = n_order++;
    for (; j > 0 && c[order[j - 1]].key > c[i].key; j--)
      order[j] = order[j - 1];
    order[j] = i;
  }
  guint got = 0;
  for (gsize k = 0; k <= n_order && got < max; k++) {
    gsize p = k == 0 ? chosen : c[order[k - 1]].key_p;
    double fit = k == 0 ? mis : c[order[k - 1]].key_fit;
    if (k == 0 && chosen == picked)
      for (gsize i = 0; i < n; i++)   /* the divisor that won: its own misfits */
        if (c[i].fit_p == chosen && c[i].key_p != chosen)
          fit = c[i].fit;
    /* A multiple of a stride that lines up lines up too: it says nothing new. */
    gboolean dup = p == 0 || fit > EARLY_MISFITS;
    for (guint i = 0; i < got; i++)
      dup |= p % out[i].stride == 0;
    if (dup)
      continue;
    gsize col0 = 0, cols = 0, width = picture_width(&run, p, &col0, &cols);
    out[got++] = (HwStrideGuess){ .format = f, .stride = (guint32)p,
                                  .width = (guint32)MAX(width, (gsize)1),
                                  .offset = (guint32)col0, .fit = 1.0 - fit };
  }
  run_clear(&run);
  return got;
}
