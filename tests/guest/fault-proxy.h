/* A unix-socket proxy between haywire and one of QEMU's sockets (QMP or the GDB stub)
 * that fails on purpose at the Nth message QEMU sends: the first connection through it
 * gets the fault, later ones (haywire reconnecting) are passed through untouched, or
 * first closed at once, as a QEMU that does not yet serve a new client may. */
#pragma once

#include <glib.h>

typedef enum {
  HW_FAULT_CUT,      /* close both sides 10 bytes into QMP message N (lines) */
  HW_FAULT_SILENT,   /* from message N on, pass nothing back (0: not even a greeting) */
  HW_FAULT_KILL,     /* SIGKILL QEMU when the stub has sent N packets (GDB: '#' count) */
} HwFaultMode;

typedef struct _HwFaultProxy HwFaultProxy;

/* Listen on a fresh socket and forward to TARGET (a unix socket path). */
HwFaultProxy *hw_fault_proxy_new(const char *target, HwFaultMode mode, guint n, int qemu_pid);
/* The proxy's socket path (borrowed). */
const char *hw_fault_proxy_address(HwFaultProxy *p);
/* Whether the fault happened (message N was reached). */
gboolean hw_fault_proxy_fired(HwFaultProxy *p);
/* Lines QEMU sent on the first connection (QMP messages), counted until the fault. */
guint hw_fault_proxy_messages(HwFaultProxy *p);
/* On the first connection, SIGKILL QEMU_PID (given to hw_fault_proxy_new) when the client
 * sends a message holding NEEDLE (copied), instead of passing that message on. */
void hw_fault_proxy_kill_on(HwFaultProxy *p, const char *needle);
/* Close the next N connections after the first as soon as they come (then pass through). */
void hw_fault_proxy_refuse(HwFaultProxy *p, guint n);
/* Stop and free. */
void hw_fault_proxy_free(HwFaultProxy *p);
