/* haywire serve: the memory viewer in a browser. An HTTP server on loopback (libsoup-3)
 * in this process, with a random access token in the address it prints; QMP events
 * are followed while it runs, and it ends on SIGINT/SIGTERM/SIGHUP or when QEMU goes,
 * resuming a guest the viewer paused. */
#include "cli/serve.h"

#include <errno.h>
#include <glib-unix.h>
#include <malloc.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* HOST:PORT, [V6]:PORT, :PORT or PORT (host 127.0.0.1) as a socket address (caller
 * owns); NULL with a message. Host names are not resolved: an address says where. */
static GSocketAddress *
parse_listen(const char *text, GError **error)
{
  g_autofree char *host = NULL;
  const char *port_text = text;
  const char *colon = strrchr(text, ':');
  if (colon != NULL) {
    host = g_strndup(text, (gsize)(colon - text));
    port_text = colon + 1;
    gsize n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
      memmove(host, host + 1, n - 2);
      host[n - 2] = '\0';
    }
  }
  if (host == NULL || host[0] == '\0') {
    g_free(host);
    host = g_strdup("127.0.0.1");
  }
  guint64 port = 0;
  if (!g_ascii_string_to_unsigned(port_text, 10, 0, 65535, &port, NULL)) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "--listen wants ADDR:PORT with a port of 0-65535 (0: any free one), not '%s'",
                text);
    return NULL;
  }
  g_autoptr(GInetAddress) addr = g_inet_address_new_from_string(host);
  if (addr == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "--listen wants an IP address (127.0.0.1, ::1, 0.0.0.0), not '%s'", host);
    return NULL;
  }
  return g_inet_socket_address_new(addr, (guint16)port);
}

static gboolean
on_signal(gint fd, GIOCondition cond, gpointer data)
{
  HwServe *s = data;
  unsigned char sig = 0;
  (void)cond;
  if (read(fd, &sig, 1) == 1) {
    fprintf(stderr, "haywire: %s: the viewer stops\n", sig == SIGINT ? "SIGINT"
                    : sig == SIGTERM ? "SIGTERM" : "SIGHUP");
    g_main_loop_quit(s->loop);
  }
  return G_SOURCE_CONTINUE;
}

/* QMP events as they come (the run state and epoch the page shows); a broken link or
 * a QEMU gone ends the server. */
static gboolean
follow_events(HwServe *s, guint timeout_ms)
{
  g_autoptr(GError) error = NULL;
  if (hw_guest_follow(s->cli->guest, timeout_ms, &error))
    return G_SOURCE_CONTINUE;
  if (s->fatal == NULL)
    s->fatal = g_steal_pointer(&error);
  g_main_loop_quit(s->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_qmp(gint fd, GIOCondition cond, gpointer data)
{
  (void)fd, (void)cond;
  return follow_events(data, 0);
}

static gboolean
on_poll(gpointer data)
{
  return follow_events(data, 20);
}

/* The address to open: the listening socket's, with the token. */
static char *
viewer_url(HwServe *s, GSocketAddress *asked)
{
  GSList *uris = soup_server_get_uris(s->server);
  int port = uris ? g_uri_get_port(uris->data) : 0;
  g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
  GInetAddress *ia = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(asked));
  g_autofree char *host = g_inet_address_to_string(ia);
  gboolean v6 = g_inet_address_get_family(ia) == G_SOCKET_FAMILY_IPV6;
  return g_strdup_printf("http://%s%s%s:%d/?token=%s", v6 ? "[" : "", host, v6 ? "]" : "",
                         port, s->token);
}

int
hw_cmd_serve(HwCli *cli, int argc, char **argv)
{
  int rc;
  g_autofree char *listen = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen, "where to listen (default "
      "127.0.0.1:0, a free port on loopback; another address is reachable by others: a "
      "warning says so)", "ADDR:PORT" },
    { NULL }
  };
  if (!hw_cli_parse("serve", NULL, "Serve the memory viewer: open the address it prints in "
                    "a browser (the token in it is required). It never writes guest memory; "
                    "a guest it paused is resumed when it ends (Ctrl-C).", entries, &argc,
                    &argv, &rc))
    return rc;
  if (argc > 1)
    return hw_cli_usage("serve", "unexpected argument '%s'", argv[1]);
  g_autoptr(GSocketAddress) where = parse_listen(listen ? listen : "127.0.0.1:0", &error);
  if (where == NULL)
    return hw_cli_usage("serve", "%s", error->message);
  GInetAddress *ia = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(where));
  if (!g_inet_address_get_is_loopback(ia)) {
    g_autofree char *host = g_inet_address_to_string(ia);
    fprintf(stderr, "haywire: warning: listening on %s, not on loopback: whoever can reach "
            "it and has the token sees this guest's memory\n", host);
  }

  /* Each frame allocates a few buffers of megabytes: kept in the heap when freed
   * instead of unmapped (glibc's default for blocks this big), the next frame does not
   * fault every one of their pages in again. */
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);

  /* The wake pipe first: a signal from now on ends the loop (once it runs) instead of
   * the process. */
  int sig_fd = hw_guest_get_signal_fd();
  HwServe s = { .cli = cli };
  s.token = hw_serve_new_token(&error);
  if (s.token == NULL)
    return hw_cli_fail(error);
  s.server = soup_server_new("server-header", "haywire", NULL);
  hw_serve_add_api(&s);
  hw_serve_add_stream(&s);
  hw_serve_add_live(&s);
  hw_serve_add_assets(&s);
  if (!soup_server_listen(s.server, where, 0, &error)) {
    g_object_unref(s.server);
    g_free(s.token);
    g_prefix_error(&error, "cannot listen on %s: ", listen ? listen : "127.0.0.1");
    return hw_cli_fail(error);
  }
  g_autofree char *url = viewer_url(&s, where);
  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "url");
    json_builder_add_string_value(b, url);
    json_builder_set_member_name(b, "token");
    json_builder_add_string_value(b, s.token);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
  } else {
    printf("%s\n", url);
    fprintf(stderr, "haywire: the viewer is at the address above; Ctrl-C stops it\n");
  }
  fflush(stdout);

  s.loop = g_main_loop_new(NULL, FALSE);
  guint sig_src = sig_fd >= 0 ? g_unix_fd_add(sig_fd, G_IO_IN, on_signal, &s) : 0;
  int qmp_fd = cli->qmp ? hw_qmp_get_fd(cli->qmp) : -1;
  guint qmp_src = qmp_fd >= 0 ? g_unix_fd_add(qmp_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_qmp, &s)
                              : g_timeout_add(250, on_poll, &s);
  g_main_loop_run(s.loop);

  if (qmp_src && s.fatal == NULL)
    g_source_remove(qmp_src);
  if (sig_src)
    g_source_remove(sig_src);
  hw_serve_close_streams(&s);
  soup_server_disconnect(s.server);
  g_object_unref(s.server);
  g_main_loop_unref(s.loop);
  g_free(s.token);
  g_clear_pointer(&s.owners, hw_owner_map_free);
  hw_serve_free_live(&s);
  /* Never leave paused a guest the viewer paused. */
  g_autoptr(GError) rerr = NULL;
  if (s.held && !hw_guest_resume(cli->guest, &rerr) && s.fatal == NULL)
    s.fatal = g_steal_pointer(&rerr);
  if (s.fatal != NULL) {
    GError *e = s.fatal;
    rc = hw_cli_fail(e);
    g_error_free(e);
    return rc;
  }
  return HW_EXIT_OK;
}
