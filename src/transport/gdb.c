/* GDB remote serial protocol client for QEMU's stub: packets $data#cs with acks,
 * qSupported, qXfer:features:read for target.xml and the files it includes, Hg to pick
 * a vCPU, p to read one register, D;pid to detach. Everything the stub sends is
 * checked: checksums, lengths, hex, escapes, a bounded number of packets and bytes. */
#include <haywire/gdb.h>
#include <haywire/error.h>
#include "transport/socket.h"

#include <string.h>

#define MAX_PACKET (64u << 10)     /* bytes of one packet's data */
#define MAX_XML (1u << 20)         /* bytes of all target description files */
#define MAX_XML_FILES 32
#define MAX_REGS 1024
#define MAX_SKIPPED 64             /* stop replies and noise before an answer */

typedef struct {
  char *name;
  guint regnum;
  guint bitsize;
} GdbReg;

struct _HwGdb {
  GSocketConnection *conn;
  GSocket *sock;
  guint timeout_ms;
  GString *in;              /* bytes received, not yet used */
  GArray *regs;             /* GdbReg */
  HwArch arch;
  gboolean multiprocess;
  int pid;                  /* from the stop reply's thread id, for D;pid */
};

void
hw_gdb_free(HwGdb *gdb)
{
  if (gdb == NULL)
    return;
  if (gdb->conn) {
    g_io_stream_close(G_IO_STREAM(gdb->conn), NULL, NULL);
    g_object_unref(gdb->conn);
  }
  if (gdb->regs) {
    for (guint i = 0; i < gdb->regs->len; i++)
      g_free(g_array_index(gdb->regs, GdbReg, i).name);
    g_array_unref(gdb->regs);
  }
  if (gdb->in)
    g_string_free(gdb->in, TRUE);
  g_free(gdb);
}

/* ---- wire ------------------------------------------------------------------------ */

static gboolean
send_raw(HwGdb *gdb, const char *data, gsize len, GError **error)
{
  while (len > 0) {
    g_autoptr(GError) local = NULL;
    gssize n = g_socket_send(gdb->sock, data, len, NULL, &local);
    if (n <= 0) {
      g_set_error(error, HW_ERROR, HW_ERROR_DISCONNECTED, "cannot send to the GDB stub: %s",
                  local ? local->message : "connection closed");
      return FALSE;
    }
    data += n;
    len -= (gsize)n;
  }
  return TRUE;
}

static gboolean
receive_some(HwGdb *gdb, gint64 deadline, GError **error)
{
  gint64 left = deadline - g_get_monotonic_time();
  g_autoptr(GError) local = NULL;
  if (left <= 0 || !g_socket_condition_timed_wait(gdb->sock, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                                  left, NULL, &local)) {
    g_set_error(error, HW_ERROR, HW_ERROR_TIMEOUT, "no answer from the GDB stub within %u ms",
                gdb->timeout_ms);
    return FALSE;
  }
  char buf[4096];
  gssize n = g_socket_receive(gdb->sock, buf, sizeof buf, NULL, &local);
  if (n <= 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_DISCONNECTED, "the GDB stub closed the connection%s%s",
                local ? ": " : "", local ? local->message : "");
    return FALSE;
  }
  if (gdb->in->len + (gsize)n > 2 * MAX_PACKET + 16) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "the GDB stub sent an oversized packet");
    return FALSE;
  }
  g_string_append_len(gdb->in, buf, n);
  return TRUE;
}

static int
hexval(char c)
{
  return g_ascii_xdigit_value(c);
}

static gboolean
send_packet(HwGdb *gdb, const char *data, GError **error)
{
  guint sum = 0;
  for (const char *p = data; *p; p++)
    sum += (guchar)*p;
  g_autofree char *pkt = g_strdup_printf("$%s#%02x", data, sum & 0xff);
  return send_raw(gdb, pkt, strlen(pkt), error);
}

/* The next packet's data, unescaped and run-length expanded; acked. */
static GByteArray *
read_packet(HwGdb *gdb, gint64 deadline, GError **error)
{
  for (;;) {
    /* Skip acks. Anything else outside a packet means the peer is no GDB stub (a QMP
     * socket greets with '{'): say so at once instead of waiting for the time-out. */
    gsize start = 0;
    while (start < gdb->in->len && (gdb->in->str[start] == '+' || gdb->in->str[start] == '-'))
      start++;
    if (start < gdb->in->len && gdb->in->str[start] != '$') {
      g_autofree char *seen = g_strndup(gdb->in->str + start, MIN(gdb->in->len - start, 12));
      for (char *c = seen; *c; c++)
        if (!g_ascii_isprint(*c))
          *c = '.';
      g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL,
                  "the peer is not a GDB stub (it sent '%s' outside a packet)", seen);
      return NULL;
    }
    g_string_erase(gdb->in, 0, (gssize)start);
    const char *hash = gdb->in->len ? memchr(gdb->in->str, '#', gdb->in->len) : NULL;
    if (hash != NULL && (gsize)(hash - gdb->in->str) + 3 <= gdb->in->len) {
      gsize len = (gsize)(hash - gdb->in->str) - 1;
      const guchar *d = (const guchar *)gdb->in->str + 1;
      guint sum = 0;
      for (gsize i = 0; i < len; i++)
        sum += d[i];
      int hi = hexval(hash[1]), lo = hexval(hash[2]);
      if (hi < 0 || lo < 0 || (guint)(hi * 16 + lo) != (sum & 0xff)) {
        g_string_erase(gdb->in, 0, (gssize)(len + 4));
        if (!send_raw(gdb, "-", 1, error))
          return NULL;
        continue;   /* the stub retransmits */
      }
      g_autoptr(GByteArray) out = g_byte_array_new();
      for (gsize i = 0; i < len; i++) {
        guint8 c = d[i];
        if (c == '}' && i + 1 < len) {
          c = d[++i] ^ 0x20;
        } else if (c == '*' && i + 1 < len && out->len > 0) {
          /* Run-length: the previous byte again (count - 29) times. */
          guint n = (guint)d[++i] - 29;
          guint8 prev = out->data[out->len - 1];
          for (guint k = 0; k < n && out->len < MAX_PACKET; k++)
            g_byte_array_append(out, &prev, 1);
          continue;
        }
        if (out->len >= MAX_PACKET) {
          g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "GDB packet too long");
          return NULL;
        }
        g_byte_array_append(out, &c, 1);
      }
      g_string_erase(gdb->in, 0, (gssize)(len + 4));
      if (!send_raw(gdb, "+", 1, error))
        return NULL;
      return g_steal_pointer(&out);
    }
    if (!receive_some(gdb, deadline, error))
      return NULL;
  }
}

static gboolean
is_stop_reply(const GByteArray *p)
{
  return p->len > 0 && (p->data[0] == 'T' || p->data[0] == 'S' || p->data[0] == 'W');
}

/* Note the process id of a stop reply's "thread:pP.T;" for D;P. */
static void
note_stop(HwGdb *gdb, const GByteArray *p)
{
  g_autofree char *s = g_strndup((const char *)p->data, p->len);
  const char *t = strstr(s, "thread:p");
  if (t != NULL)
    gdb->pid = (int)g_ascii_strtoll(t + 8, NULL, 16);
}

/* Send DATA and return the answer, skipping stop replies (QEMU sends one when a client
 * attaches). */
static char *
command(HwGdb *gdb, const char *data, gsize *len, GError **error)
{
  if (!send_packet(gdb, data, error))
    return NULL;
  gint64 deadline = g_get_monotonic_time() + (gint64)gdb->timeout_ms * 1000;
  for (guint skipped = 0; skipped < MAX_SKIPPED; skipped++) {
    g_autoptr(GByteArray) p = read_packet(gdb, deadline, error);
    if (p == NULL) {
      g_prefix_error(error, "%.20s: ", data);
      return NULL;
    }
    if (is_stop_reply(p) && data[0] != '?') {
      note_stop(gdb, p);
      continue;
    }
    if (len)
      *len = p->len;
    g_byte_array_append(p, (const guint8 *)"", 1);
    return (char *)g_byte_array_free(g_steal_pointer(&p), FALSE);
  }
  g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "%.20s: no answer among the stub's packets",
              data);
  return NULL;
}

/* ---- target description ------------------------------------------------------------ */

static char *
read_xml_file(HwGdb *gdb, const char *name, gsize *budget, GError **error)
{
  g_autoptr(GString) xml = g_string_new(NULL);
  for (;;) {
    g_autofree char *q = g_strdup_printf("qXfer:features:read:%s:%zx,%x", name, xml->len,
                                         MAX_PACKET / 2);
    gsize len;
    g_autofree char *r = command(gdb, q, &len, error);
    if (r == NULL)
      return NULL;
    if (len == 0 || (r[0] != 'm' && r[0] != 'l')) {
      g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "target description %s: answer '%.8s'",
                  name, r);
      return NULL;
    }
    if (len - 1 > *budget) {
      g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "target description larger than %u bytes",
                  MAX_XML);
      return NULL;
    }
    *budget -= len - 1;
    g_string_append_len(xml, r + 1, (gssize)(len - 1));
    if (r[0] == 'l')
      return g_string_free(g_steal_pointer(&xml), FALSE);
    if (len == 1) {
      g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "target description %s: empty 'm'", name);
      return NULL;
    }
  }
}

typedef struct {
  HwGdb *gdb;
  GPtrArray *includes;      /* file names still to read, in order */
  guint next_regnum;
} XmlState;

static const char *
attr(const char **names, const char **values, const char *want)
{
  for (guint i = 0; names[i]; i++)
    if (strcmp(names[i], want) == 0)
      return values[i];
  return NULL;
}

static void
xml_start(GMarkupParseContext *ctx, const char *element, const char **names,
          const char **values, gpointer data, GError **error)
{
  XmlState *st = data;
  if (strcmp(element, "xi:include") == 0) {
    const char *href = attr(names, values, "href");
    if (href && st->includes->len < MAX_XML_FILES && strchr(href, ':') == NULL &&
        strchr(href, '/') == NULL)
      g_ptr_array_add(st->includes, g_strdup(href));
    return;
  }
  if (strcmp(element, "reg") != 0)
    return;
  const char *name = attr(names, values, "name"), *bits = attr(names, values, "bitsize");
  const char *num = attr(names, values, "regnum");
  if (name == NULL || bits == NULL || st->gdb->regs->len >= MAX_REGS)
    return;
  /* Without regnum a register takes the number after the previous one. */
  guint regnum = num ? (guint)g_ascii_strtoull(num, NULL, 10) : st->next_regnum;
  GdbReg r = { g_strdup(name), regnum, (guint)g_ascii_strtoull(bits, NULL, 10) };
  g_array_append_val(st->gdb->regs, r);
  st->next_regnum = regnum + 1;
}

static void
xml_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer data, GError **error)
{
  XmlState *st = data;
  if (g_strcmp0(g_markup_parse_context_get_element(ctx), "architecture") != 0)
    return;
  g_autofree char *arch = g_strstrip(g_strndup(text, len));
  if (strcmp(arch, "i386:x86-64") == 0)
    st->gdb->arch = HW_ARCH_X86_64;
  else if (strcmp(arch, "aarch64") == 0)
    st->gdb->arch = HW_ARCH_AARCH64;
}

static gboolean
read_target(HwGdb *gdb, GError **error)
{
  static const GMarkupParser parser = { xml_start, NULL, xml_text, NULL, NULL };
  g_autoptr(GPtrArray) includes = g_ptr_array_new_with_free_func(g_free);
  XmlState st = { gdb, includes, 0 };
  gsize budget = MAX_XML;
  g_ptr_array_add(includes, g_strdup("target.xml"));
  for (guint i = 0; i < includes->len; i++) {
    g_autofree char *xml = read_xml_file(gdb, g_ptr_array_index(includes, i), &budget, error);
    if (xml == NULL)
      return FALSE;
    /* Each file is a document of its own; included files come after target.xml's
     * registers, in the order of their xi:include elements. */
    g_autoptr(GMarkupParseContext) ctx = g_markup_parse_context_new(
        &parser, G_MARKUP_DEFAULT_FLAGS, &st, NULL);
    if (!g_markup_parse_context_parse(ctx, xml, (gssize)strlen(xml), error) ||
        !g_markup_parse_context_end_parse(ctx, error)) {
      g_prefix_error(error, "target description %s: ", (char *)g_ptr_array_index(includes, i));
      if (error && *error)
        (*error)->domain = HW_ERROR, (*error)->code = HW_ERROR_PROTOCOL;
      return FALSE;
    }
  }
  if (gdb->regs->len == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "target description lists no registers");
    return FALSE;
  }
  return TRUE;
}

/* ---- public ------------------------------------------------------------------------ */

HwGdb *
hw_gdb_connect(const char *addr, guint timeout_ms, GError **error)
{
  if (addr == NULL || addr[0] == '\0') {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "no GDB stub address (use --gdb or HAYWIRE_GDB)");
    return NULL;
  }
  g_autoptr(HwGdb) gdb = g_new0(HwGdb, 1);
  gdb->timeout_ms = timeout_ms ? timeout_ms : HW_GDB_DEFAULT_TIMEOUT_MS;
  gdb->in = g_string_new(NULL);
  gdb->regs = g_array_new(FALSE, FALSE, sizeof(GdbReg));
  gdb->pid = 1;
  gdb->conn = hw_socket_connect(addr, gdb->timeout_ms, "the GDB stub", error);
  if (gdb->conn == NULL)
    return NULL;
  gdb->sock = g_socket_connection_get_socket(gdb->conn);
  g_socket_set_timeout(gdb->sock, (gdb->timeout_ms + 999) / 1000);

  GError *local = NULL;
  g_autofree char *features = command(gdb, "qSupported:multiprocess+;xmlRegisters=i386", NULL,
                                      &local);
  if (features == NULL) {
    /* QEMU's stub takes one client: a second one is connected but never answered. */
    if (g_error_matches(local, HW_ERROR, HW_ERROR_TIMEOUT))
      g_prefix_error(&local, "%s: is another debugger attached? QEMU's stub serves one "
                     "client at a time: ", addr);
    g_propagate_error(error, local);
    return NULL;
  }
  if (strstr(features, "qXfer:features:read+") == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL,
                "%s: the GDB stub offers no target description", addr);
    return NULL;
  }
  gdb->multiprocess = strstr(features, "multiprocess+") != NULL;
  g_autofree char *why = command(gdb, "?", NULL, error);
  if (why == NULL)
    return NULL;
  if (why[0] == 'T' || why[0] == 'S') {
    GByteArray view = { (guint8 *)why, (guint)strlen(why) };
    note_stop(gdb, &view);
  }
  if (!read_target(gdb, error))
    return NULL;
  return g_steal_pointer(&gdb);
}

gboolean
hw_gdb_detach(HwGdb *gdb, GError **error)
{
  g_autofree char *d = gdb->multiprocess ? g_strdup_printf("D;%x", gdb->pid) : g_strdup("D");
  g_autofree char *r = command(gdb, d, NULL, error);
  gboolean ok = r != NULL && strcmp(r, "OK") == 0;
  if (r != NULL && !ok)
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "detach: the GDB stub answered '%.16s'", r);
  hw_gdb_free(gdb);
  return ok;
}

HwArch
hw_gdb_get_arch(HwGdb *gdb)
{
  return gdb->arch;
}

guint
hw_gdb_get_register_count(HwGdb *gdb)
{
  return gdb->regs->len;
}

static const GdbReg *
find_reg(HwGdb *gdb, const char *name)
{
  for (guint i = 0; i < gdb->regs->len; i++)
    if (g_ascii_strcasecmp(g_array_index(gdb->regs, GdbReg, i).name, name) == 0)
      return &g_array_index(gdb->regs, GdbReg, i);
  return NULL;
}

const char *
hw_gdb_lookup_register(HwGdb *gdb, const char *name)
{
  const GdbReg *r = find_reg(gdb, name);
  return r ? r->name : NULL;
}

/* qfThreadInfo / qsThreadInfo: "m" and comma-separated ids, until "l". */
gboolean
hw_gdb_count_vcpus(HwGdb *gdb, guint *n, GError **error)
{
  guint count = 0;
  const char *q = "qfThreadInfo";
  for (guint round = 0; round < MAX_SKIPPED * 64; round++, q = "qsThreadInfo") {
    gsize len;
    g_autofree char *r = command(gdb, q, &len, error);
    if (r == NULL)
      return FALSE;
    if (len == 1 && r[0] == 'l') {
      *n = count;
      return TRUE;
    }
    if (len < 2 || r[0] != 'm') {
      g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "thread list: answer '%.16s'", r);
      return FALSE;
    }
    for (const char *p = r + 1; p; p = strchr(p + 1, ','))
      count++;
  }
  g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "thread list: more than %u answers",
              MAX_SKIPPED * 64);
  return FALSE;
}

HwRegs *
hw_gdb_read_regs(HwGdb *gdb, guint cpu, const char *const *names, GError **error)
{
  /* Threads are vCPUs, numbered from 1 (in process 1 with multiprocess). */
  g_autofree char *hg = gdb->multiprocess ? g_strdup_printf("Hgp%x.%x", gdb->pid, cpu + 1)
                                          : g_strdup_printf("Hg%x", cpu + 1);
  g_autofree char *sel = command(gdb, hg, NULL, error);
  if (sel == NULL)
    return NULL;
  if (strcmp(sel, "OK") != 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "vCPU %u: the GDB stub answered "
                "'%.16s' to selecting it", cpu, sel);
    return NULL;
  }
  g_autoptr(HwRegs) regs = hw_regs_new(gdb->arch);
  for (guint i = 0; names[i]; i++) {
    const GdbReg *r = find_reg(gdb, names[i]);
    if (r == NULL) {
      g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED,
                  "the GDB stub's target description has no register %s", names[i]);
      return NULL;
    }
    if (r->bitsize == 0 || r->bitsize > 64 || r->bitsize % 8) {
      g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED, "register %s has %u bits", r->name,
                  r->bitsize);
      return NULL;
    }
    g_autofree char *q = g_strdup_printf("p%x", r->regnum);
    gsize len;
    g_autofree char *v = command(gdb, q, &len, error);
    if (v == NULL)
      return NULL;
    /* Target byte order (little-endian on both arches we walk), two hex digits a byte. */
    if (len != r->bitsize / 4) {
      g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "register %s: answer '%.16s' is not %u "
                  "hex digits", r->name, v, r->bitsize / 4);
      return NULL;
    }
    guint64 value = 0;
    for (guint b = 0; b < r->bitsize / 8; b++) {
      int hi = hexval(v[2 * b]), lo = hexval(v[2 * b + 1]);
      if (hi < 0 || lo < 0) {
        g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "register %s: '%.16s' is not hex",
                    r->name, v);
        return NULL;
      }
      value |= (guint64)(hi * 16 + lo) << (8 * b);
    }
    hw_regs_set(regs, r->name, value);
  }
  return g_steal_pointer(&regs);
}
