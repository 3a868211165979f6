/* The signal guard: a guest that haywire paused is never left paused by SIGINT, SIGTERM
 * or SIGHUP. The handler can only use async-signal-safe calls, so each held guest is
 * known by its QMP socket's fd, on which the handler writes "cont" itself; a connection
 * without one (libvirt's pass-through) is resumed by a thread the handler wakes, which
 * then ends the process by the signal. */
#include "guest/guest-private.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_HELD 16   /* guests held paused at once by one process */

static const int guarded[] = { SIGINT, SIGTERM, SIGHUP };

/* fds[i] >= 0: the socket of a guest held paused, owned by owners[i]. The handler reads
 * only fds and wake_fd; owners is for the non-handler side, under lock. */
static volatile sig_atomic_t fds[MAX_HELD] = { -1, -1, -1, -1, -1, -1, -1, -1,
                                               -1, -1, -1, -1, -1, -1, -1, -1 };
static const void *owners[MAX_HELD];
static GMutex lock;
static volatile sig_atomic_t wake_fd = -1;   /* write end of the wake pipe, or -1 */
static int wake_read_fd = -1;
#define THREAD_HELD (-2)   /* fds[i]: held, resumed by the resumer thread */
static HwQmp *thread_qmps[MAX_HELD];
static volatile sig_atomic_t resumer_fd = -1;  /* write end of the resumer's pipe */

static void
on_signal(int sig)
{
  static const char cont[] = "{\"execute\": \"cont\"}\n";
  int saved = errno;
  gboolean held = FALSE;
  for (guint i = 0; i < MAX_HELD; i++)
    if (fds[i] == THREAD_HELD && resumer_fd >= 0) {
      /* The resumer resumes and ends the process; this handler returns. */
      unsigned char b = (unsigned char)sig;
      ssize_t r = write(resumer_fd, &b, 1);
      (void)r;
      errno = saved;
      return;
    }
  for (guint i = 0; i < MAX_HELD; i++) {
    int fd = fds[i];
    if (fd < 0)
      continue;
    ssize_t r = write(fd, cont, sizeof cont - 1);
    (void)r;
    held = TRUE;
  }
  if (!held && wake_fd >= 0) {
    /* Nothing to resume: the long-running caller ends its loop in its own time. */
    unsigned char b = (unsigned char)sig;
    ssize_t r = write(wake_fd, &b, 1);
    (void)r;
    errno = saved;
    return;
  }
  if (held) {
    /* Give QEMU a moment to read "cont" before the sockets close. */
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    for (guint i = 0; i < MAX_HELD; i++) {
      char buf[256];
      int fd = fds[i];
      if (fd >= 0) {
        ssize_t r = read(fd, buf, sizeof buf);
        (void)r;
      }
    }
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

void
hw_guest_guard_signals(void)
{
  static gsize once;
  if (!g_once_init_enter(&once))
    return;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (guint i = 0; i < G_N_ELEMENTS(guarded); i++)
    sigaddset(&sa.sa_mask, guarded[i]);   /* one handler at a time */
  for (guint i = 0; i < G_N_ELEMENTS(guarded); i++)
    sigaction(guarded[i], &sa, NULL);
  g_once_init_leave(&once, 1);
}

int
hw_guest_get_signal_fd(void)
{
  g_mutex_lock(&lock);
  if (wake_read_fd < 0) {
    int p[2];
    if (pipe(p) == 0) {
      fcntl(p[0], F_SETFD, FD_CLOEXEC);
      fcntl(p[1], F_SETFD, FD_CLOEXEC);
      fcntl(p[0], F_SETFL, O_NONBLOCK);
      fcntl(p[1], F_SETFL, O_NONBLOCK);
      wake_read_fd = p[0];
      wake_fd = p[1];
    }
  }
  int fd = wake_read_fd;
  g_mutex_unlock(&lock);
  return fd;
}

/* The resumer thread: woken by the handler with the signal's number, it continues every
 * guest held through a connection without an fd, then dies of that signal. */
static gpointer
resumer(gpointer data)
{
  int fd = GPOINTER_TO_INT(data);
  unsigned char sig = 0;
  while (read(fd, &sig, 1) != 1)
    ;
  g_mutex_lock(&lock);
  for (guint i = 0; i < MAX_HELD; i++)
    if (fds[i] == THREAD_HELD && thread_qmps[i])
      hw_qmp_cont_from_thread(thread_qmps[i]);
  g_mutex_unlock(&lock);
  signal(sig, SIG_DFL);
  raise(sig);
  return NULL;
}

static void
start_resumer(void)
{
  if (resumer_fd >= 0)
    return;
  int p[2];
  if (pipe(p) != 0)
    return;
  fcntl(p[0], F_SETFD, FD_CLOEXEC);
  fcntl(p[1], F_SETFD, FD_CLOEXEC);
  g_thread_unref(g_thread_new("signal-resumer", resumer, GINT_TO_POINTER(p[0])));
  resumer_fd = p[1];
}

void
hw_signal_guard_hold(const void *owner, HwQmp *qmp)
{
  g_mutex_lock(&lock);
  guint slot = MAX_HELD;
  for (guint i = 0; i < MAX_HELD && slot == MAX_HELD; i++)
    if (owners[i] == owner)
      slot = i;
  for (guint i = 0; i < MAX_HELD && slot == MAX_HELD; i++)
    if (owners[i] == NULL)
      slot = i;
  if (slot < MAX_HELD) {
    owners[slot] = owner;
    if (hw_qmp_can_cont_from_thread(qmp)) {
      start_resumer();
      thread_qmps[slot] = qmp;
      fds[slot] = THREAD_HELD;
    } else {
      thread_qmps[slot] = NULL;
      fds[slot] = hw_qmp_get_fd(qmp);
    }
  } else {
    g_warning("more than %u guests held paused: a signal will not resume this one", MAX_HELD);
  }
  g_mutex_unlock(&lock);
}

void
hw_signal_guard_release(const void *owner)
{
  g_mutex_lock(&lock);
  for (guint i = 0; i < MAX_HELD; i++)
    if (owners[i] == owner) {
      fds[i] = -1;
      owners[i] = NULL;
      thread_qmps[i] = NULL;
    }
  g_mutex_unlock(&lock);
}

void
hw_guest_keep_paused(HwGuest *guest)
{
  hw_signal_guard_release(guest);
}
