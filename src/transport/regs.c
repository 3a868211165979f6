/* vCPU register sets: name/value pairs in reading order, and the arch names. */
#include <haywire/regs.h>

#include <string.h>

#define MAX_REGS 256

struct _HwRegs {
  HwArch arch;
  GPtrArray *names;   /* char*, in reading order */
  GArray *values;     /* guint64, parallel to names */
};

static const struct {
  HwArch arch;
  const char *name;
} arch_names[] = {
  { HW_ARCH_X86_64, "x86_64" },
  { HW_ARCH_AARCH64, "aarch64" },
};

const char *
hw_arch_name(HwArch arch)
{
  for (gsize i = 0; i < G_N_ELEMENTS(arch_names); i++)
    if (arch_names[i].arch == arch)
      return arch_names[i].name;
  return "unknown";
}

HwArch
hw_arch_from_name(const char *name)
{
  for (gsize i = 0; name && i < G_N_ELEMENTS(arch_names); i++)
    if (strcmp(arch_names[i].name, name) == 0)
      return arch_names[i].arch;
  return HW_ARCH_UNKNOWN;
}

HwRegs *
hw_regs_new(HwArch arch)
{
  HwRegs *r = g_new0(HwRegs, 1);
  r->arch = arch;
  r->names = g_ptr_array_new_with_free_func(g_free);
  r->values = g_array_new(FALSE, FALSE, sizeof(guint64));
  return r;
}

HwRegs *
hw_regs_copy(const HwRegs *regs)
{
  HwRegs *r = hw_regs_new(regs->arch);
  for (guint i = 0; i < regs->names->len; i++)
    hw_regs_set(r, g_ptr_array_index(regs->names, i), g_array_index(regs->values, guint64, i));
  return r;
}

void
hw_regs_free(HwRegs *regs)
{
  if (regs == NULL)
    return;
  g_ptr_array_unref(regs->names);
  g_array_unref(regs->values);
  g_free(regs);
}

void
hw_regs_set(HwRegs *r, const char *name, guint64 value)
{
  for (guint i = 0; i < r->names->len; i++) {
    if (g_ascii_strcasecmp(g_ptr_array_index(r->names, i), name) == 0) {
      g_array_index(r->values, guint64, i) = value;
      return;
    }
  }
  if (r->names->len >= MAX_REGS)
    return;
  g_ptr_array_add(r->names, g_strdup(name));
  g_array_append_val(r->values, value);
}

gboolean
hw_regs_get(const HwRegs *regs, const char *name, guint64 *value)
{
  for (guint i = 0; i < regs->names->len; i++) {
    if (g_ascii_strcasecmp(g_ptr_array_index(regs->names, i), name) == 0) {
      *value = g_array_index(regs->values, guint64, i);
      return TRUE;
    }
  }
  return FALSE;
}

HwArch
hw_regs_get_arch(const HwRegs *regs)
{
  return regs->arch;
}

const char *const *
hw_regs_get_names(const HwRegs *regs, guint *n)
{
  *n = regs->names->len;
  return (const char *const *)regs->names->pdata;
}
