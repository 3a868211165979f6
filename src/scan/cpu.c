/* Host CPU features, asked once. */
#include "scan/cpu.h"

gboolean
hw_cpu_has_avx2(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
  static gsize checked;
  static gboolean yes;
  if (g_once_init_enter(&checked)) {
    __builtin_cpu_init();
    yes = __builtin_cpu_supports("avx2") != 0;
    g_once_init_leave(&checked, 1);
  }
  return yes;
#else
  return FALSE;
#endif
}
