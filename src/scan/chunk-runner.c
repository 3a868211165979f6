/* The all-core chunk engine shared by the physical scan and the page classifier. */
#include "scan/chunk-runner.h"
#include "guest/guard.h"

typedef struct {
  const HwChunkRunner *r;
  gpointer job;
  gint next;            /* atomic: next chunk to take */
  gint gone;            /* atomic: the mapping vanished */
  guint64 done;         /* atomic: bytes done */
} Pass;

typedef struct {
  Pass *pass;
  guint chunk;
  gpointer state;
  guint64 bytes;
} Step;

static void
run_chunk(gpointer data)
{
  Step *s = data;
  s->bytes = s->pass->r->chunk(s->pass->job, s->chunk, s->state);
}

/* Take chunks until none is left; PROGRESS on the caller's thread only. */
static void
take_chunks(Pass *p, gboolean report)
{
  const HwChunkRunner *r = p->r;
  Step s = { p, 0, r->thread_begin ? r->thread_begin(p->job) : NULL, 0 };
  for (;;) {
    gint i = g_atomic_int_add(&p->next, 1);
    if (i >= (gint)r->n_chunks || g_atomic_int_get(&p->gone))
      break;
    s.chunk = (guint)i;
    if (!hw_guarded(run_chunk, &s)) {
      g_atomic_int_set(&p->gone, 1);
      break;
    }
    guint64 done = __atomic_add_fetch(&p->done, s.bytes, __ATOMIC_RELAXED);
    if (report && r->progress)
      r->progress(MIN(done, r->total), r->total, r->progress_data);
  }
  if (r->thread_end)
    r->thread_end(p->job, s.state);
}

static gpointer
worker(gpointer data)
{
  take_chunks(data, FALSE);
  return NULL;
}

gboolean
hw_chunks_run(const HwChunkRunner *r, gpointer job)
{
  Pass p = { r, job, 0, 0, 0 };
  guint n = r->n_threads ? r->n_threads : g_get_num_processors();
  n = CLAMP(n, 1, HW_SCAN_MAX_THREADS);
  n = MIN(n, MAX(r->n_chunks, 1));
  g_autoptr(GPtrArray) threads = g_ptr_array_new();
  for (guint t = 1; t < n; t++)
    g_ptr_array_add(threads, g_thread_new("hw-chunks", worker, &p));
  take_chunks(&p, TRUE);
  for (guint t = 0; t < threads->len; t++)
    g_thread_join(g_ptr_array_index(threads, t));
  return !p.gone;
}
