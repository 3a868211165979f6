/* SIGBUS guard: a thread-local stack of sigsetjmp targets; the handler jumps to the
 * innermost one, or dies as it would have without a handler. */
#include "guest/guard.h"

#include <setjmp.h>
#include <signal.h>
#include <string.h>

typedef struct Guard Guard;
struct Guard {
  sigjmp_buf jb;
  Guard *prev;
};

static _Thread_local Guard *current_guard;

static void
on_sigbus(int sig, siginfo_t *info, void *ctx)
{
  Guard *g = current_guard;
  if (g != NULL) {
    current_guard = g->prev;
    siglongjmp(g->jb, 1);
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

void
hw_guard_install(void)
{
  static gsize done;
  if (g_once_init_enter(&done)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    /* NODEFER: we leave the handler by siglongjmp without restoring the mask. */
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
    g_once_init_leave(&done, 1);
  }
}

gboolean
hw_guarded(HwGuardedFunc fn, gpointer data)
{
  Guard g;
  g.prev = current_guard;
  current_guard = &g;
  if (sigsetjmp(g.jb, 0) != 0)
    return FALSE;   /* the handler popped g */
  fn(data);
  g_assert(current_guard == &g);
  current_guard = g.prev;
  return TRUE;
}
