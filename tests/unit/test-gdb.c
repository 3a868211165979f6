/* GDB stub client against a fake stub: a thread on a unix socket that answers like
 * QEMU's (unsolicited stop reply, qXfer target description split over packets and an
 * included file, registers with and without regnum), and misbehaves on request. */
#include <haywire/haywire.h>

#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef enum {
  FAKE_OK,
  FAKE_BAD_CHECKSUM_ONCE,   /* first answer's checksum wrong: the client NAKs, we resend */
  FAKE_NO_XFER,             /* qSupported without qXfer:features:read+ */
  FAKE_BAD_HEX,             /* p answers non-hex */
  FAKE_SHORT_REG,           /* p answers too few digits */
  FAKE_SILENT,              /* never answers */
  FAKE_HANGUP,              /* closes after qSupported */
  FAKE_BAD_XML,             /* target.xml is not XML */
  FAKE_NO_REGS,             /* a description without registers */
  FAKE_QMP,                 /* a QMP socket: greets with JSON */
  FAKE_BAD_THREADS,         /* qfThreadInfo answers nonsense */
  FAKE_ENDLESS_THREADS,     /* qsThreadInfo never says 'l' */
} FakeMode;

typedef struct {
  FakeMode mode;
  char *dir, *path;
  int listen_fd;
  GThread *thread;
  gboolean detached;
  guint selected;           /* vCPU of the last Hg, 1-based */
} Fake;

static const char target_xml[] =
  "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
  "<target><architecture>aarch64</architecture>"
  "<xi:include href=\"core.xml\"/><xi:include href=\"sys.xml\"/></target>";
static const char core_xml[] =
  "<feature name=\"org.gnu.gdb.aarch64.core\">"
  "<reg name=\"x0\" bitsize=\"64\"/><reg name=\"x1\" bitsize=\"64\"/>"
  "<reg name=\"pc\" bitsize=\"64\" regnum=\"32\"/><reg name=\"cpsr\" bitsize=\"32\"/>"
  "</feature>";
static const char sys_xml[] =
  "<feature name=\"org.qemu.gdb.aarch64.sysregs\">"
  "<reg name=\"TTBR0_EL1\" bitsize=\"64\" regnum=\"120\"/>"
  "<reg name=\"TTBR1_EL1\" bitsize=\"64\"/><reg name=\"TCR_EL1\" bitsize=\"64\"/>"
  "<reg name=\"odd\" bitsize=\"12\"/></feature>";

static void
put(int fd, const char *data, gboolean corrupt)
{
  guint sum = 0;
  for (const char *p = data; *p; p++)
    sum += (guchar)*p;
  g_autofree char *pkt = g_strdup_printf("$%s#%02x", data, (sum + (corrupt ? 1 : 0)) & 0xff);
  /* The client may have hung up already (it gave up on us): not the fake's failure. */
  (void)!send(fd, pkt, strlen(pkt), MSG_NOSIGNAL);
}

/* The next packet from the client (acks skipped), or NULL when it hung up. */
static char *
get(int fd)
{
  GString *s = g_string_new(NULL);
  gboolean in = FALSE;
  char c;
  while (read(fd, &c, 1) == 1) {
    if (!in) {
      if (c == '$')
        in = TRUE;
      continue;
    }
    if (c == '#') {
      char cs[2];
      if (read(fd, cs, 2) != 2)
        break;
      (void)!send(fd, "+", 1, MSG_NOSIGNAL);   /* the client may be gone */
      return g_string_free(s, FALSE);
    }
    g_string_append_c(s, c);
  }
  g_string_free(s, TRUE);
  return NULL;
}

/* qXfer:features:read:NAME:OFF,LEN over FILE, in pieces of at most 40 bytes. */
static char *
xfer(const char *file, const char *req)
{
  const char *comma = strrchr(req, ',');
  const char *colon = strrchr(req, ':');
  gsize off = g_ascii_strtoull(colon + 1, NULL, 16);
  gsize len = MIN(g_ascii_strtoull(comma + 1, NULL, 16), 40);
  gsize total = strlen(file);
  if (off >= total)
    return g_strdup("l");
  gsize n = MIN(len, total - off);
  return g_strdup_printf("%c%.*s", off + n >= total ? 'l' : 'm', (int)n, file + off);
}

static gpointer
fake_thread(gpointer data)
{
  Fake *f = data;
  int fd = accept(f->listen_fd, NULL, NULL);
  g_assert_cmpint(fd, >=, 0);
  gboolean corrupt = f->mode == FAKE_BAD_CHECKSUM_ONCE;
  char *req;
  if (f->mode == FAKE_QMP) {
    static const char greeting[] = "{\"QMP\": {\"version\": {}}}\r\n";
    (void)!send(fd, greeting, strlen(greeting), MSG_NOSIGNAL);
  }
  while ((req = get(fd)) != NULL) {
    g_autofree char *r = req, *answer = NULL;
    if (f->mode == FAKE_SILENT)
      continue;
    if (g_str_has_prefix(r, "qSupported")) {
      /* QEMU announces the stop first when a client attaches. */
      put(fd, "T05thread:p01.01;", FALSE);
      answer = g_strdup(f->mode == FAKE_NO_XFER ? "PacketSize=1000;multiprocess+"
                                                : "PacketSize=1000;qXfer:features:read+;"
                                                  "multiprocess+");
      if (f->mode == FAKE_HANGUP) {
        put(fd, answer, FALSE);
        break;
      }
    } else if (strcmp(r, "qfThreadInfo") == 0) {
      answer = g_strdup(f->mode == FAKE_BAD_THREADS ? "x" : "mp01.01,p01.02");
    } else if (strcmp(r, "qsThreadInfo") == 0) {
      answer = g_strdup(f->mode == FAKE_ENDLESS_THREADS ? "mp01.03" : "l");
    } else if (strcmp(r, "?") == 0) {
      answer = g_strdup("T05thread:p01.01;");
    } else if (g_str_has_prefix(r, "qXfer:features:read:target.xml:")) {
      answer = f->mode == FAKE_BAD_XML ? g_strdup("l<target><reg") :
               f->mode == FAKE_NO_REGS ? g_strdup("l<target/>") : xfer(target_xml, r);
    } else if (g_str_has_prefix(r, "qXfer:features:read:core.xml:")) {
      answer = xfer(core_xml, r);
    } else if (g_str_has_prefix(r, "qXfer:features:read:sys.xml:")) {
      answer = xfer(sys_xml, r);
    } else if (g_str_has_prefix(r, "Hgp1.")) {
      f->selected = (guint)g_ascii_strtoull(r + 5, NULL, 16);
      answer = g_strdup(f->selected >= 1 && f->selected <= 2 ? "OK" : "E22");
    } else if (r[0] == 'p') {
      guint n = (guint)g_ascii_strtoull(r + 1, NULL, 16);
      if (f->mode == FAKE_BAD_HEX)
        answer = g_strdup("zz00000000000000");
      else if (f->mode == FAKE_SHORT_REG)
        answer = g_strdup("0011");
      else if (n == 120)   /* TTBR0: 0x0000000041234000 + vCPU, sent with '*' run-length */
        answer = g_strdup_printf("%02x402341000*\"", (guint)f->selected);   /* 5 more 0s */
      else if (n == 33)    /* cpsr, 32 bits, after pc (32) */
        answer = g_strdup("c5030000");
      else                 /* every other register: its number in the low byte */
        answer = g_strdup_printf("%02x00000000000000", n);
    } else if (strcmp(r, "D;1") == 0) {
      f->detached = TRUE;
      answer = g_strdup("OK");
    } else {
      answer = g_strdup("");
    }
    put(fd, answer, corrupt);
    if (corrupt) {      /* the client NAKs; send it right */
      corrupt = FALSE;
      char c = 0;
      for (int k = 0; k < 8 && c != '-'; k++)   /* the '+' for the stop reply first */
        g_assert_cmpint(read(fd, &c, 1), ==, 1);
      g_assert_cmpint(c, ==, '-');
      put(fd, answer, FALSE);
    }
  }
  close(fd);
  return NULL;
}

static Fake *
fake_new(FakeMode mode)
{
  Fake *f = g_new0(Fake, 1);
  f->mode = mode;
  f->dir = g_dir_make_tmp("hw-gdb-XXXXXX", NULL);
  f->path = g_build_filename(f->dir, "gdb.sock", NULL);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  g_strlcpy(sa.sun_path, f->path, sizeof sa.sun_path);
  f->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
  g_assert_cmpint(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
  g_assert_cmpint(listen(f->listen_fd, 1), ==, 0);
  f->thread = g_thread_new("fake-gdb", fake_thread, f);
  return f;
}

static void
fake_free(Fake *f)
{
  shutdown(f->listen_fd, SHUT_RDWR);
  g_thread_join(f->thread);
  close(f->listen_fd);
  unlink(f->path);
  g_rmdir(f->dir);
  g_free(f->path);
  g_free(f->dir);
  g_free(f);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Fake, fake_free)

static void
test_read_regs(gconstpointer data)
{
  g_autoptr(Fake) f = fake_new(GPOINTER_TO_INT(data));
  g_autoptr(GError) error = NULL;
  HwGdb *gdb = hw_gdb_connect(f->path, 2000, &error);
  g_assert_no_error(error);
  g_assert_cmpint(hw_gdb_get_arch(gdb), ==, HW_ARCH_AARCH64);
  g_assert_cmpuint(hw_gdb_get_register_count(gdb), ==, 8);
  const char *names[] = { "TTBR0_EL1", "ttbr1_el1", "TCR_EL1", "pc", "cpsr", "x1", NULL };
  g_autoptr(HwRegs) regs = hw_gdb_read_regs(gdb, 1, names, &error);
  g_assert_no_error(error);
  guint64 v;
  /* TTBR0 is regnum 120 (given); TTBR1 and TCR follow it; cpsr follows pc (32). */
  g_assert_true(hw_regs_get(regs, "TTBR0_EL1", &v));
  g_assert_cmphex(v, ==, 0x41234002ull);   /* 0x41234000 + the vCPU number */
  g_assert_true(hw_regs_get(regs, "TTBR1_EL1", &v));
  g_assert_cmphex(v, ==, 121);
  g_assert_true(hw_regs_get(regs, "TCR_EL1", &v));
  g_assert_cmphex(v, ==, 122);
  g_assert_true(hw_regs_get(regs, "pc", &v));
  g_assert_cmphex(v, ==, 32);
  g_assert_true(hw_regs_get(regs, "cpsr", &v));
  g_assert_cmphex(v, ==, 0x3c5);
  g_assert_true(hw_regs_get(regs, "x1", &v));
  g_assert_cmphex(v, ==, 1);
  g_assert_cmpint(hw_regs_get_arch(regs), ==, HW_ARCH_AARCH64);
  /* The description's own spelling, found case-insensitively. */
  g_assert_cmpstr(hw_gdb_lookup_register(gdb, "ttbr0_el1"), ==, "TTBR0_EL1");
  g_assert_cmpstr(hw_gdb_lookup_register(gdb, "PC"), ==, "pc");
  g_assert_null(hw_gdb_lookup_register(gdb, "SCTLR"));
  guint vcpus = 0;
  g_assert_true(hw_gdb_count_vcpus(gdb, &vcpus, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(vcpus, ==, 2);

  /* A register the description does not have; one of 12 bits; a vCPU that is not. */
  const char *missing[] = { "CR3", NULL }, *odd[] = { "odd", NULL };
  g_assert_null(hw_gdb_read_regs(gdb, 0, missing, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED);
  g_clear_error(&error);
  g_assert_null(hw_gdb_read_regs(gdb, 0, odd, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED);
  g_clear_error(&error);
  g_assert_null(hw_gdb_read_regs(gdb, 7, names, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_true(hw_gdb_detach(gdb, &error));
  g_assert_no_error(error);
  g_assert_true(f->detached);
}

typedef struct {
  const char *name;
  FakeMode mode;
  gboolean at_connect;
  int code;
} BadCase;

static const BadCase bad_cases[] = {
  { "no-xfer", FAKE_NO_XFER, TRUE, HW_ERROR_PROTOCOL },
  { "silent", FAKE_SILENT, TRUE, HW_ERROR_TIMEOUT },
  { "hangup", FAKE_HANGUP, TRUE, HW_ERROR_DISCONNECTED },
  { "bad-xml", FAKE_BAD_XML, TRUE, HW_ERROR_PROTOCOL },
  { "no-registers", FAKE_NO_REGS, TRUE, HW_ERROR_PROTOCOL },
  { "bad-hex", FAKE_BAD_HEX, FALSE, HW_ERROR_PROTOCOL },
  { "short-register", FAKE_SHORT_REG, FALSE, HW_ERROR_PROTOCOL },
  { "qmp-socket", FAKE_QMP, TRUE, HW_ERROR_PROTOCOL },
  { "bad-thread-list", FAKE_BAD_THREADS, FALSE, HW_ERROR_PROTOCOL },
  { "endless-thread-list", FAKE_ENDLESS_THREADS, FALSE, HW_ERROR_LIMIT },
};

/* Play case C; ERROR may be NULL (the NULL-error row): FALSE when the client failed. */
static gboolean
run_bad(const BadCase *c, GError **error)
{
  g_autoptr(Fake) f = fake_new(c->mode);
  g_autoptr(HwGdb) gdb = hw_gdb_connect(f->path, 300, error);
  if (c->at_connect || gdb == NULL)
    return gdb != NULL;
  if (c->mode == FAKE_BAD_THREADS || c->mode == FAKE_ENDLESS_THREADS) {
    guint n;
    return hw_gdb_count_vcpus(gdb, &n, error);
  }
  const char *names[] = { "pc", NULL };
  g_autoptr(HwRegs) regs = hw_gdb_read_regs(gdb, 0, names, error);
  return regs != NULL;
}

static void
test_bad(gconstpointer data)
{
  const BadCase *c = data;
  g_autoptr(GError) error = NULL;
  g_assert_false(run_bad(c, &error));
  g_assert_error(error, HW_ERROR, c->code);
  g_assert_false(run_bad(c, NULL));
}

static void
test_no_stub(void)
{
  g_autoptr(GError) error = NULL;
  g_assert_null(hw_gdb_connect("/nonexistent/gdb.sock", 300, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_CONNECT);
  g_clear_error(&error);
  g_assert_null(hw_gdb_connect("", 300, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_data_func("/gdb/read-regs", GINT_TO_POINTER(FAKE_OK), test_read_regs);
  g_test_add_data_func("/gdb/bad-checksum-resent", GINT_TO_POINTER(FAKE_BAD_CHECKSUM_ONCE),
                       test_read_regs);
  for (gsize i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
    g_autofree char *path = g_strdup_printf("/gdb/bad/%s", bad_cases[i].name);
    g_test_add_data_func(path, &bad_cases[i], test_bad);
  }
  g_test_add_func("/gdb/no-stub", test_no_stub);
  return g_test_run();
}
