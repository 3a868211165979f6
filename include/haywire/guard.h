/* haywire: survive SIGBUS when the memory file shrinks under us (QEMU exited).
 *
 *   HwGuard g;
 *   hw_guard_push(&g);
 *   if (sigsetjmp(g.jb, 0) == 0) { ...touch the mapping...; hw_guard_pop(&g); }
 *   else { ...the mapping is gone: the handler already popped g... }
 */
#pragma once

#include <glib.h>
#include <setjmp.h>

G_BEGIN_DECLS

typedef struct _HwGuard HwGuard;
struct _HwGuard {
  sigjmp_buf jb;
  HwGuard *prev;
};

/* Install the process-wide SIGBUS handler (idempotent, thread-safe). */
void hw_guard_install(void);
/* Make G the innermost guard of this thread; sigsetjmp(g->jb, 0) must follow at once. */
void hw_guard_push(HwGuard *g);
/* Leave G after the guarded code ran to its end. */
void hw_guard_pop(HwGuard *g);

G_END_DECLS
