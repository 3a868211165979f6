/* Sockets for QEMU's monitors and stubs: "PATH", "unix:PATH", "HOST:PORT",
 * "tcp:HOST:PORT", "[V6]:PORT"; connected with a time-out. "fd:N" takes a socket that is
 * already connected (inherited from a launch script, or one end of a socketpair). */
#include "transport/socket.h"
#include <haywire/error.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <gio/gunixsocketaddress.h>

static GSocketAddress *
parse_address(const char *addr, GError **error)
{
  const char *colon = strrchr(addr, ':');
  if (g_str_has_prefix(addr, "unix:"))
    return g_unix_socket_address_new(addr + 5);
  if (g_str_has_prefix(addr, "tcp:"))
    addr += 4;
  colon = strrchr(addr, ':');
  if (colon != NULL && colon != addr && strchr(addr, '/') == NULL && colon[1] != '\0' &&
      strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
    guint64 port = g_ascii_strtoull(colon + 1, NULL, 10);
    g_autofree char *host = g_strndup(addr, (gsize)(colon - addr));
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
      char *h = g_strndup(host + 1, strlen(host) - 2);
      g_free(host);
      host = h;
    }
    g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(host);
    if (port == 0 || port > 65535) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "bad port in address %s", addr);
      return NULL;
    }
    if (ia == NULL) {
      g_autoptr(GResolver) res = g_resolver_get_default();
      g_autolist(GInetAddress) list = g_resolver_lookup_by_name(res, host, NULL, error);
      if (list == NULL) {
        g_prefix_error(error, "cannot resolve %s: ", host);
        return NULL;
      }
      ia = g_object_ref(list->data);
    }
    return g_inet_socket_address_new(ia, (guint16)port);
  }
  return g_unix_socket_address_new(addr);
}

/* "fd:N": wrap the connected socket N (owned by the connection from now on). */
static GSocketConnection *
connection_from_fd(const char *addr, const char *what, GError **error)
{
  const char *n = addr + 3;
  guint64 fd = 0;
  if (*n == '\0' || strspn(n, "0123456789") != strlen(n) || strlen(n) > 9 ||
      (fd = g_ascii_strtoull(n, NULL, 10)) > G_MAXINT) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "bad file descriptor in %s", addr);
    return NULL;
  }
  /* GIO warns about descriptors it cannot use: check first that this one is a socket. */
  struct stat st;
  errno = 0;
  if (fstat((int)fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    g_set_error(error, HW_ERROR, HW_ERROR_CONNECT, "cannot use %s as %s: %s", addr, what,
                errno == EBADF ? "no such open file descriptor" : "not a socket");
    return NULL;
  }
  g_autoptr(GError) local = NULL;
  g_autoptr(GSocket) sock = g_socket_new_from_fd((int)fd, &local);
  if (sock == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_CONNECT, "cannot use %s as %s: %s", addr, what,
                local->message);
    return NULL;
  }
  return g_socket_connection_factory_create_connection(sock);
}

GSocketConnection *
hw_socket_connect(const char *addr, guint timeout_ms, const char *what, GError **error)
{
  if (g_str_has_prefix(addr, "fd:"))
    return connection_from_fd(addr, what, error);
  g_autoptr(GSocketAddress) sa = parse_address(addr, error);
  if (sa == NULL)
    return NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_socket_client_set_timeout(client, (timeout_ms + 999) / 1000);
  g_autoptr(GError) local = NULL;
  GSocketConnection *conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(sa), NULL,
                                                    &local);
  if (conn == NULL)
    g_set_error(error, HW_ERROR, HW_ERROR_CONNECT, "cannot connect to %s at %s: %s", what, addr,
                local->message);
  return conn;
}
