/* x86-64 guests: registers from HMP `info registers` (CR0-CR4, EFER, CPL, RIP, ...). */
#include "guest/guest-private.h"
#include <haywire/error.h>

#include <string.h>

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

static HwRegs *
x86_read_regs(HwGuest *guest, guint cpu, GError **error)
{
  g_autofree char *text = hw_qmp_hmp(guest->qmp, "info registers", (int)cpu, error);
  if (text == NULL)
    return NULL;
  HwRegs *regs = hw_regs_parse_x86_64(text, error);
  if (regs == NULL)
    g_prefix_error(error, "vCPU %u: ", cpu);
  return regs;
}

static const char *const summary[] = { "RIP", "CPL", "CR0", "CR2", "CR3", "CR4", "EFER",
                                       "RSP", "RFL", NULL };

const HwGuestArch hw_guest_arch_x86_64 = {
  .arch = HW_ARCH_X86_64,
  .read_regs = x86_read_regs,
  .summary = summary,
};
