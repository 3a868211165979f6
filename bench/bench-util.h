/* What the benchmark programs share: a clock and a way to give up. */
#pragma once

#include <glib.h>
#include <haywire/haywire.h>
#include <stdio.h>
#include <stdlib.h>

/* Monotonic seconds. */
static inline double
bench_now(void)
{
  return g_get_monotonic_time() / 1e6;
}

/* Print "PROGRAM: WHAT: ERROR" and exit 1. */
static inline G_NORETURN void
bench_die(const char *what, GError *error)
{
  fprintf(stderr, "%s: %s: %s\n", g_get_prgname() ? g_get_prgname() : "bench", what,
          error ? error->message : "failed");
  exit(1);
}

/* Connect to QMP at ADDR (replies within TIMEOUT_MS) and map the guest's memory: the
 * guest, its connection in *QMP (the caller frees the guest, then *QMP); exits on
 * failure. */
static inline HwGuest *
bench_open_guest(const char *addr, guint timeout_ms, HwQmp **qmp)
{
  GError *error = NULL;
  *qmp = hw_qmp_connect(addr, timeout_ms, &error);
  if (*qmp == NULL)
    bench_die("connect", error);
  HwGuest *guest = hw_guest_new(*qmp, &error);
  if (guest == NULL || !hw_guest_map_memory(guest, NULL, &error))
    bench_die("guest", error);
  return guest;
}

/* The honest baseline for bulk work (its time in seconds): every core reading the mapping, 64-bit words
 * folded into a sum (no copy), chunks taken from a shared counter. */
typedef struct {
  const HwPhysMem *mem;
  const HwRamRange *ranges;
  guint n_ranges;
  gint next;
  guint64 sink;
} BenchAllCore;

static inline gpointer
bench_allcore_worker(gpointer data)
{
  BenchAllCore *a = data;
  guint64 acc = 0;
  for (;;) {
    gint i = g_atomic_int_add(&a->next, 1);
    guint64 skip = (guint64)i * (8u << 20);
    guint r = 0;
    while (r < a->n_ranges && skip >= a->ranges[r].size)
      skip -= a->ranges[r++].size;
    if (r >= a->n_ranges)
      break;
    gsize n = (gsize)MIN((guint64)(8u << 20), a->ranges[r].size - skip);
    const guint64 *w = (const guint64 *)(const void *)hw_physmem_ptr(a->mem,
                                                                     a->ranges[r].gpa + skip, n);
    for (gsize k = 0; w && k < n / 8; k++)
      acc += w[k];
  }
  __atomic_add_fetch(&a->sink, acc, __ATOMIC_RELAXED);
  return NULL;
}

static inline double
bench_allcore_read(const HwPhysMem *mem, guint64 *sink)
{
  BenchAllCore a = { .mem = mem };
  a.ranges = hw_physmem_get_ranges(mem, &a.n_ranges);
  guint n = g_get_num_processors();
  g_autoptr(GPtrArray) threads = g_ptr_array_new();
  double t0 = bench_now();
  for (guint t = 0; t < n; t++)
    g_ptr_array_add(threads, g_thread_new("read", bench_allcore_worker, &a));
  for (guint t = 0; t < n; t++)
    g_thread_join(g_ptr_array_index(threads, t));
  *sink += a.sink;
  return bench_now() - t0;
}
