/* What the host CPU offers beyond the build's baseline, checked once at run time
 * (private to scan/: the vectorised page loops pick their widest form by it). */
#pragma once

#include <glib.h>

/* Whether the code may use AVX2 (x86-64 with GCC or Clang; FALSE elsewhere). */
gboolean hw_cpu_has_avx2(void);
