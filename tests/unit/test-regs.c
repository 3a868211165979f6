/* x86-64 `info registers` parsing: captured QEMU 7.2 output and broken text. */
#include <haywire/guest.h>
#include <haywire/error.h>

#include <string.h>

#include "test-data.h"

static guint64
get_reg(const HwRegs *regs, const char *name)
{
  guint64 v = 0xdeadbeefdeadbeefull;
  if (!hw_regs_get(regs, name, &v))
    g_error("register %s missing", name);
  return v;
}

/* ---- captured output -------------------------------------------------------------------- */

typedef struct {
  const char *file;
  guint64 cr0, cr3, cr4, efer, rip, cpl, r8, r9, rsp, r15;
} CapturedCase;

static const CapturedCase captured_cases[] = {
  { "info-registers-q35.txt", 0x80050033, 0x2c14000, 0x6f0, 0xd01, 0x401a90, 3,
    0, 0x10f, 0x7ffeef706350, 0x7efd3c388000 },
  { "info-registers-la57.txt", 0x80050033, 0x1fee4000, 0x751ef0, 0xd01, 0x401a90, 3,
    0, 0x7ffeef1e7506, 0x7ffeef1e7630, 0x7efd9a5a9000 },
  /* CR3 bit 12 set: a user-mode CR3 under PTI (the user half of the PGD pair). */
  { "info-registers-pti.txt", 0x80050033, 0x102b9000, 0x751ef0, 0xd01, 0x401a90, 3,
    0, 0x7ffd1ed6ffc6, 0x7ffd1ed700f0, 0x7fdf83163000 },
};

static void
check_captured(const CapturedCase *c, const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HwRegs) regs = hw_regs_parse_x86_64(text, &error);
  g_assert_no_error(error);
  g_assert_nonnull(regs);
  g_assert_cmpint(hw_regs_get_arch(regs), ==, HW_ARCH_X86_64);

  g_assert_cmphex(get_reg(regs, "CR0"), ==, c->cr0);
  g_assert_cmphex(get_reg(regs, "CR3"), ==, c->cr3);
  g_assert_cmphex(get_reg(regs, "CR4"), ==, c->cr4);
  g_assert_cmphex(get_reg(regs, "EFER"), ==, c->efer);
  g_assert_cmphex(get_reg(regs, "RIP"), ==, c->rip);
  g_assert_cmphex(get_reg(regs, "CPL"), ==, c->cpl);
  /* "R8 =" and "R9 =" pad the name with a space before '='. */
  g_assert_cmphex(get_reg(regs, "R8"), ==, c->r8);
  g_assert_cmphex(get_reg(regs, "R9"), ==, c->r9);
  g_assert_cmphex(get_reg(regs, "RSP"), ==, c->rsp);
  g_assert_cmphex(get_reg(regs, "R15"), ==, c->r15);
  g_assert_cmphex(get_reg(regs, "CR2"), ==, 0x5794a9);
  /* Look-up ignores case. */
  g_assert_cmphex(get_reg(regs, "cr3"), ==, c->cr3);

  /* DPL of the segment lines is no register; names are upper-case words. */
  guint64 v;
  g_assert_false(hw_regs_get(regs, "DPL", &v));
  g_assert_false(hw_regs_get(regs, "", &v));
  guint n = 0;
  const char *const *names = hw_regs_get_names(regs, &n);
  g_assert_cmpuint(n, >=, 40);
  g_assert_cmpstr(names[0], ==, "RAX");
  for (guint i = 0; i < n; i++) {
    g_assert_cmpuint(strlen(names[i]), >=, 1);
    g_assert_true(g_ascii_isupper(names[i][0]));
    for (const char *p = names[i]; *p; p++)
      g_assert_true(g_ascii_isupper(*p) || g_ascii_isdigit(*p) || *p == '_');
  }
}

static void
test_captured(gconstpointer data)
{
  const CapturedCase *c = data;
  g_autofree char *text = hw_test_load_data(c->file);
  check_captured(c, text);

  /* Bare \n line ends work the same. */
  g_auto(GStrv) parts = g_strsplit(text, "\r\n", -1);
  g_autofree char *lf = g_strjoinv("\n", parts);
  check_captured(c, lf);
}

/* The least text that gives a register set. */
static void
test_minimal(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HwRegs) regs = hw_regs_parse_x86_64(
    "R8 =0000000000000001 R9 =0000000000000002\n"
    "CR0=80000011 CR3=0000000000001000 CR4=00001020 EFER=0000000000000500\n"
    "RIP=ffffffff81000000 RFL=00000002 [-------] CPL=0\n", &error);
  g_assert_no_error(error);
  g_assert_cmphex(get_reg(regs, "R8"), ==, 1);
  g_assert_cmphex(get_reg(regs, "R9"), ==, 2);
  g_assert_cmphex(get_reg(regs, "CR3"), ==, 0x1000);
  g_assert_cmphex(get_reg(regs, "RIP"), ==, 0xffffffff81000000ull);
  g_assert_cmphex(get_reg(regs, "RFL"), ==, 2);
  g_assert_cmphex(get_reg(regs, "CPL"), ==, 0);
}

/* ---- text that gives no register set ------------------------------------------------------ */

typedef struct {
  const char *name;
  const char *file;       /* captured file to start from, or NULL to use TEXT */
  const char *text;
  const char *remove;     /* with FILE: every occurrence is cut out */
} BadTextCase;

#define MINIMAL_OK "CR0=80000011 CR3=1000 CR4=20 EFER=500 RIP=0 CPL=0\n"

static const BadTextCase bad_text_cases[] = {
  { "empty", NULL, "", NULL },
  { "blank", NULL, "\r\n\r\n", NULL },
  { "garbage", NULL, "unknown command: 'info registers'\r\n", NULL },
  { "only-equals", NULL, "=====\n= = =\n", NULL },
  { "binary", NULL, "\x01\x02=\xff\xfe=\x80=", NULL },
  { "no-cr3", "info-registers-q35.txt", NULL, "CR3=" },
  { "no-cr0", "info-registers-q35.txt", NULL, "CR0=" },
  { "no-cr4", "info-registers-la57.txt", NULL, "CR4=" },
  { "no-efer", "info-registers-pti.txt", NULL, "EFER=" },
  { "no-rip", "info-registers-q35.txt", NULL, "RIP=" },
  { "no-cpl", "info-registers-q35.txt", NULL, "CPL=" },
  { "lower-case", NULL, "cr0=80000011 cr3=1000 cr4=20 efer=500 rip=0 cpl=0\n", NULL },
  { "cr3-not-hex", NULL, "CR0=80000011 CR3=zz00 CR4=20 EFER=500 RIP=0 CPL=0\n", NULL },
  { "cr3-empty", NULL, "CR0=80000011 CR3= CR4=20 EFER=500 RIP=0 CPL=0\n", NULL },
  { "cr3-too-long", NULL,
    "CR0=80000011 CR3=00000000000001000 CR4=20 EFER=500 RIP=0 CPL=0\n", NULL },
  { "cr3-glued", NULL, "CR0=80000011 CR3=1000xyz CR4=20 EFER=500 RIP=0 CPL=0\n", NULL },
  { "cr3-far-from-equals", NULL, "CR0=80000011 CR3   =1000 CR4=20 EFER=500 RIP=0 CPL=0\n",
    NULL },
  { "truncated", NULL, "CR0=80000011 CR3=1000 CR4=20 EFER=500 RIP=0 CPL=", NULL },
};

static void
test_bad_text(gconstpointer data)
{
  const BadTextCase *c = data;
  g_autofree char *text = NULL;
  if (c->file != NULL) {
    g_autofree char *orig = hw_test_load_data(c->file);
    g_auto(GStrv) parts = g_strsplit(orig, c->remove, -1);
    g_assert_cmpuint(g_strv_length(parts), >=, 2);  /* it was there */
    text = g_strjoinv("", parts);
  } else {
    text = g_strdup(c->text);
  }
  g_autoptr(GError) error = NULL;

  g_autoptr(HwRegs) regs = hw_regs_parse_x86_64(text, &error);
  g_assert_null(regs);
  g_assert_error(error, HW_ERROR, HW_ERROR_PROTOCOL);
}

/* The table's good twin parses, so each bad case fails for its own reason. */
static void
test_minimal_ok(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HwRegs) regs = hw_regs_parse_x86_64(MINIMAL_OK, &error);
  g_assert_no_error(error);
  g_assert_cmphex(get_reg(regs, "CR3"), ==, 0x1000);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS(captured_cases); i++) {
    const CapturedCase *c = &captured_cases[i];
    g_autofree char *base = g_strndup(c->file, strlen(c->file) - strlen(".txt"));
    g_autofree char *path = g_strdup_printf("/guest/regs/%s", base);
    g_test_add_data_func(path, c, test_captured);
  }
  g_test_add_func("/guest/regs/minimal", test_minimal);
  g_test_add_func("/guest/regs/minimal-ok", test_minimal_ok);
  for (guint i = 0; i < G_N_ELEMENTS(bad_text_cases); i++) {
    g_autofree char *path = g_strdup_printf("/guest/regs/bad/%s", bad_text_cases[i].name);
    g_test_add_data_func(path, &bad_text_cases[i], test_bad_text);
  }
  return g_test_run();
}
