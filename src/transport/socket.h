/* Connecting to QEMU's sockets (private to src/transport). */
#pragma once

#include <gio/gio.h>

/* Connect to ADDR ("PATH", "unix:PATH", "HOST:PORT", "tcp:HOST:PORT") within TIMEOUT_MS;
 * WHAT names the service in errors (HW_ERROR_CONNECT, INVALID_ARGUMENT). */
GSocketConnection *hw_socket_connect(const char *addr, guint timeout_ms, const char *what,
                                     GError **error);
