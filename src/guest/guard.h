/* SIGBUS guard, library-internal: a memory file truncated under the mapping (QEMU
 * exited, or someone shrank the file) raises SIGBUS on access; guarded code is cut
 * short instead, and its caller reports HW_ERROR_GONE. */
#pragma once

#include <glib.h>

/* Work that touches the mapping; DATA is the caller's. */
typedef void (*HwGuardedFunc)(gpointer data);

/* Install the process-wide SIGBUS handler (idempotent, thread-safe). */
void hw_guard_install(void);
/* Run FN(DATA) under a SIGBUS guard on this thread (guards nest); FALSE if the mapping
 * vanished while it ran, FN then stopped where it was (it must own nothing that a
 * jump out of it would leak: no locks, no allocations held across accesses). */
gboolean hw_guarded(HwGuardedFunc fn, gpointer data);
