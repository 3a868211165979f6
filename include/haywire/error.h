/* haywire: one error domain for everything the agent reports. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HW_ERROR (hw_error_quark())

typedef enum {
  HW_ERROR_FAILED,           /* anything without a better code */
  HW_ERROR_INVALID_ARGUMENT, /* bad input from the user */
  HW_ERROR_CONNECT,          /* could not reach the QMP or GDB socket */
  HW_ERROR_PROTOCOL,         /* the peer broke the protocol (garbage, wrong types) */
  HW_ERROR_QMP_COMMAND,      /* QEMU answered a command with an error */
  HW_ERROR_TIMEOUT,          /* no answer in time */
  HW_ERROR_DISCONNECTED,     /* the peer went away */
  HW_ERROR_NOT_SHARED,       /* memory backend is not share=on */
  HW_ERROR_NO_MEMORY_FILE,   /* no memory-backend-file, or it cannot be mapped */
  HW_ERROR_OUT_OF_RANGE,     /* guest-physical address outside RAM */
  HW_ERROR_UNMAPPED,         /* virtual address not mapped */
  HW_ERROR_UNSUPPORTED,      /* arch, paging mode or format not supported */
  HW_ERROR_GONE,             /* memory vanished under us (QEMU exited) */
  HW_ERROR_LIMIT,            /* a bound on guest data was hit (loops, sizes) */
  HW_ERROR_BTF,              /* bad kernel type information */
  HW_ERROR_NOT_FOUND,        /* a name looked up is not there (BTF type, member, process) */
  HW_ERROR_DECODE,           /* an image file that its decoder refuses */
} HwError;

/* The quark of the HW_ERROR domain. */
GQuark hw_error_quark(void);

G_END_DECLS
