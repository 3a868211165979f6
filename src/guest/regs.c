/* vCPU register sets, and the parser for x86-64 HMP `info registers`. */
#include <haywire/guest.h>
#include <haywire/error.h>

#include <string.h>

#define MAX_REGS 256

struct _HwRegs {
  HwArch arch;
  GPtrArray *names;   /* char*, in reading order */
  GArray *values;     /* guint64, parallel to names */
};

HwRegs *
hw_regs_new(HwArch arch)
{
  HwRegs *r = g_new0(HwRegs, 1);
  r->arch = arch;
  r->names = g_ptr_array_new_with_free_func(g_free);
  r->values = g_array_new(FALSE, FALSE, sizeof(guint64));
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
    if (strcmp(g_ptr_array_index(r->names, i), name) == 0) {
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

/* `info registers` prints NAME=HEX pairs, e.g. "RIP=ffffffff81e0112b RFL=00000246 [---Z-P-]
 * CPL=0", "CR3=000000000259c000", "EFER=0000000000000d01". Segment lines ("CS =0010 ...")
 * carry a space before '=' and are skipped: selectors are not needed here. */
HwRegs *
hw_regs_parse_x86_64(const char *text, GError **error)
{
  g_autoptr(HwRegs) r = hw_regs_new(HW_ARCH_X86_64);
  const char *p = text;

  while (*p != '\0') {
    const char *eq = strchr(p, '=');
    if (eq == NULL)
      break;
    /* The name: the alphanumeric run right before '=' ("R8 =" pads with a space). */
    const char *name_end = eq;
    while (name_end > p && name_end[-1] == ' ' && eq - name_end < 2)
      name_end--;
    const char *start = name_end;
    while (start > p && (g_ascii_isalnum(start[-1]) || start[-1] == '_'))
      start--;
    const char *v = eq + 1;
    gsize hex_len = 0;
    while (g_ascii_isxdigit(v[hex_len]))
      hex_len++;
    gsize name_len = (gsize)(name_end - start);
    if (name_len > 0 && name_len <= 8 && hex_len > 0 && hex_len <= 16 &&
        !g_ascii_isalnum(v[hex_len]) && g_ascii_isupper(start[0]) &&
        strncmp(start, "DPL", name_len) != 0) {
      g_autofree char *name = g_strndup(start, name_len);
      g_autofree char *hex = g_strndup(v, hex_len);
      hw_regs_set(r, name, g_ascii_strtoull(hex, NULL, 16));
    }
    p = v;
  }
  static const char *const required[] = { "CR0", "CR3", "CR4", "EFER", "RIP", "CPL" };
  for (guint i = 0; i < G_N_ELEMENTS(required); i++) {
    guint64 dummy;
    if (!hw_regs_get(r, required[i], &dummy)) {
      g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL,
                  "info registers: no %s in QEMU's output", required[i]);
      return NULL;
    }
  }
  return g_steal_pointer(&r);
}
