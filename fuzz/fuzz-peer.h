/* For the fuzz targets that play a peer (QMP, the GDB stub): the input is everything
 * the peer says, written into one end of a socketpair before the client starts; the
 * client gets the other end as "fd:N" and reads the input, then end of file. */
#pragma once

#include <glib.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#define FUZZ_PEER_MAX (128u << 10)   /* fits the socket buffers: writing never blocks */

/* Returns the client's end as an "fd:N" address (caller frees); *PEER is the other end,
 * already shut down for writing; close it when done. */
static inline char *
fuzz_peer_start(const guint8 *data, gsize size, int *peer)
{
  if (size > FUZZ_PEER_MAX)
    return NULL;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    return NULL;
  int buf = (int)(2 * FUZZ_PEER_MAX);
  setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  fcntl(sv[1], F_SETFL, O_NONBLOCK);
  gsize off = 0;
  while (off < size) {
    ssize_t n = write(sv[1], data + off, size - off);
    if (n <= 0)
      break;   /* the buffer is full: the rest is not said */
    off += (gsize)n;
  }
  shutdown(sv[1], SHUT_WR);
  *peer = sv[1];
  return g_strdup_printf("fd:%d", sv[0]);
}

/* The body of a peer-playing target: DATA said by the peer, CLIENT run on the address
 * of the other end (it owns that descriptor once it connects). */
static inline int
fuzz_peer_run(const guint8 *data, gsize size, void (*client)(const char *addr))
{
  int peer;
  char *addr = fuzz_peer_start(data, size, &peer);
  if (addr == NULL)
    return 0;
  client(addr);
  g_free(addr);
  close(peer);
  return 0;
}
