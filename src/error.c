/* The HW_ERROR domain. */
#include <haywire/error.h>

G_DEFINE_QUARK(haywire-error-quark, hw_error)
