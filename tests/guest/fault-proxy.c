/* The fault proxy: see fault-proxy.h. One thread accepts and serves one connection at
 * a time (QEMU's sockets serve one client at a time too). */
#include "fault-proxy.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct _HwFaultProxy {
  char *dir, *path, *target;
  HwFaultMode mode;
  guint n;
  int qemu_pid;
  int listen_fd;
  int wake[2];          /* a byte here stops the thread */
  GThread *thread;
  gint fired;           /* atomic */
  gint messages;        /* atomic: lines QEMU sent on the first connection */
  char *kill_on;        /* the client's message that has QEMU killed, or NULL */
  gint refuse;          /* atomic: later connections still to close at once */
};

static int
unix_socket(const char *path, gboolean listen_on)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  g_assert_cmpuint(strlen(path), <, sizeof sa.sun_path);
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint(fd, >=, 0);
  if (listen_on) {
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
    g_assert_cmpint(listen(fd, 4), ==, 0);
  } else if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static gboolean
send_all(int fd, const char *p, gsize len)
{
  while (len > 0) {
    ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
    if (w <= 0)
      return FALSE;
    p += w;
    len -= (gsize)w;
  }
  return TRUE;
}

/* Serve one client. FAULTY: apply the fault to this connection. FALSE: stop the proxy. */
static gboolean
serve(HwFaultProxy *p, int client, gboolean faulty)
{
  int qemu = -1;
  if (!(faulty && p->mode == HW_FAULT_SILENT && p->n == 0)) {
    qemu = unix_socket(p->target, FALSE);
    if (qemu < 0) {
      close(client);
      return TRUE;
    }
  }
  guint count = 0;          /* messages (lines) or packets ('#') QEMU sent so far */
  gboolean silent = faulty && p->mode == HW_FAULT_SILENT && p->n == 0;
  gsize into = 0;           /* bytes of message N passed on (cut) */
  if (silent)
    g_atomic_int_set(&p->fired, 1);
  gboolean go = TRUE;
  for (;;) {
    struct pollfd fds[3] = { { client, POLLIN, 0 }, { qemu, POLLIN, 0 }, { p->wake[0], POLLIN, 0 } };
    if (poll(fds, 3, -1) < 0 && errno != EINTR)
      break;
    if (fds[2].revents) {
      go = FALSE;
      break;
    }
    char buf[65536];
    if (fds[0].revents) {
      ssize_t r = recv(client, buf, sizeof buf, 0);
      if (r <= 0)
        break;
      if (faulty && p->kill_on && memmem(buf, (gsize)r, p->kill_on, strlen(p->kill_on))) {
        g_atomic_int_set(&p->fired, 1);
        kill(p->qemu_pid, SIGKILL);
        continue;   /* QEMU never sees it; its socket closes as it dies */
      }
      if (qemu >= 0 && !send_all(qemu, buf, (gsize)r))
        break;
    }
    if (qemu >= 0 && fds[1].revents) {
      ssize_t r = recv(qemu, buf, sizeof buf, 0);
      if (r <= 0)
        break;
      gsize pass = (gsize)r;
      gboolean close_after = FALSE;
      if (faulty && !silent) {
        for (gsize i = 0; i < (gsize)r; i++) {
          if (p->mode == HW_FAULT_KILL) {
            if (buf[i] == '#' && ++count == p->n) {
              g_atomic_int_set(&p->fired, 1);
              kill(p->qemu_pid, SIGKILL);
              pass = i;   /* the rest of that packet never arrives */
              break;
            }
            continue;
          }
          /* At a byte of message count+1; message N is where the fault is. */
          if (count + 1 == p->n) {
            g_atomic_int_set(&p->fired, 1);
            if (p->mode == HW_FAULT_SILENT) {
              silent = TRUE;
              pass = i;
              break;
            }
            if (++into == 10) {
              pass = i + 1;
              close_after = TRUE;
              break;
            }
          }
          if (buf[i] == '\n') {
            count++;
            g_atomic_int_set(&p->messages, (gint)MIN(count, (guint)G_MAXINT));
          }
        }
      } else if (silent) {
        pass = 0;
      }
      if (pass > 0 && !send_all(client, buf, pass))
        break;
      if (close_after)
        break;
    }
  }
  close(client);
  if (qemu >= 0)
    close(qemu);
  return go;
}

static gpointer
run(gpointer data)
{
  HwFaultProxy *p = data;
  gboolean first = TRUE;
  for (;;) {
    struct pollfd fds[2] = { { p->listen_fd, POLLIN, 0 }, { p->wake[0], POLLIN, 0 } };
    if (poll(fds, 2, -1) < 0 && errno != EINTR)
      break;
    if (fds[1].revents)
      break;
    int client = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (client < 0)
      continue;
    if (!first && g_atomic_int_get(&p->refuse) > 0) {
      g_atomic_int_add(&p->refuse, -1);
      close(client);
      continue;
    }
    if (!serve(p, client, first))
      break;
    first = FALSE;
  }
  return NULL;
}

HwFaultProxy *
hw_fault_proxy_new(const char *target, HwFaultMode mode, guint n, int qemu_pid)
{
  HwFaultProxy *p = g_new0(HwFaultProxy, 1);
  p->dir = g_dir_make_tmp("hw-proxy-XXXXXX", NULL);
  g_assert_nonnull(p->dir);
  p->path = g_build_filename(p->dir, "sock", NULL);
  p->target = g_strdup(target);
  p->mode = mode;
  p->n = n;
  p->qemu_pid = qemu_pid;
  p->listen_fd = unix_socket(p->path, TRUE);
  g_assert_cmpint(pipe(p->wake), ==, 0);
  p->thread = g_thread_new("fault-proxy", run, p);
  return p;
}

void
hw_fault_proxy_kill_on(HwFaultProxy *p, const char *needle)
{
  g_free(p->kill_on);
  p->kill_on = g_strdup(needle);
}

void
hw_fault_proxy_refuse(HwFaultProxy *p, guint n)
{
  g_atomic_int_set(&p->refuse, (gint)MIN(n, (guint)G_MAXINT));
}

const char *
hw_fault_proxy_address(HwFaultProxy *p)
{
  return p->path;
}

guint
hw_fault_proxy_messages(HwFaultProxy *p)
{
  return (guint)g_atomic_int_get(&p->messages);
}

gboolean
hw_fault_proxy_fired(HwFaultProxy *p)
{
  return g_atomic_int_get(&p->fired) != 0;
}

void
hw_fault_proxy_free(HwFaultProxy *p)
{
  if (p == NULL)
    return;
  g_assert_cmpint(write(p->wake[1], "x", 1), ==, 1);
  g_thread_join(p->thread);
  close(p->wake[0]);
  close(p->wake[1]);
  close(p->listen_fd);
  unlink(p->path);
  rmdir(p->dir);
  g_free(p->path);
  g_free(p->dir);
  g_free(p->target);
  g_free(p->kill_on);
  g_free(p);
}
