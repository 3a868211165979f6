/* What the benchmark programs share: a clock and a way to give up. */
#pragma once

#include <glib.h>
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
