/* One engine for all-core passes over guest RAM: numbered chunks taken from an atomic
 * counter by N threads (the caller's thread among them, which reports progress), each
 * chunk under the SIGBUS guard, the pass cut short when the memory vanishes. */
#pragma once

#include <haywire/scan.h>

typedef struct {
  guint n_chunks;
  guint n_threads;      /* 0: one per core; at most HW_SCAN_MAX_THREADS */
  guint64 total;        /* bytes of all chunks, for progress */
  /* Per-thread state (may be NULL); made on the thread that uses it. */
  gpointer (*thread_begin)(gpointer job);
  /* Chunk I: under the guard; returns the bytes it covered. */
  guint64 (*chunk)(gpointer job, guint i, gpointer state);
  /* Hand the thread's results over (called once per thread, from it, in any order). */
  void (*thread_end)(gpointer job, gpointer state);
  HwScanProgress progress;
  gpointer progress_data;
} HwChunkRunner;

/* Run R over JOB; FALSE when the memory vanished (the chunks done so far have run,
 * thread_end was still called for every thread). */
gboolean hw_chunks_run(const HwChunkRunner *r, gpointer job);
