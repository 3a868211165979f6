/* SIGBUS guard: a memory file truncated under our mapping (QEMU exited and the file
 * went away or shrank) raises SIGBUS on access; a guarded access jumps back instead. */
#include <haywire/guard.h>

#include <signal.h>
#include <string.h>
#include <unistd.h>

static _Thread_local HwGuard *current_guard;

static void
on_sigbus(int sig, siginfo_t *info, void *ctx)
{
  HwGuard *g = current_guard;
  if (g != NULL) {
    current_guard = g->prev;
    siglongjmp(g->jb, 1);
  }
  /* Not ours: die the way we would have without the handler. */
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

void
hw_guard_push(HwGuard *g)
{
  g->prev = current_guard;
  current_guard = g;
}

void
hw_guard_pop(HwGuard *g)
{
  g_assert(current_guard == g);
  current_guard = g->prev;
}
