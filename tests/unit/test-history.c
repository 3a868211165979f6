/* Run-state history and epochs from synthetic QMP events. */
#include <haywire/haywire.h>

static void
feed(HwHistory *h, const char *name, gint64 s)
{
  HwQmpEvent e = { (char *)name, s, 0, NULL };
  hw_history_record(h, &e);
}

/* stop, cont, reset while paused, an unknown event while paused and while running. */
static void
test_epochs(void)
{
  g_autoptr(HwHistory) h = hw_history_new(TRUE);
  g_assert_cmpuint(hw_history_get_epoch(h), ==, 1);
  g_assert_true(hw_history_is_running(h));
  g_assert_true(hw_history_changed_since(h, 1));   /* it runs: memory changes */
  static const struct {
    const char *name;
    guint64 epoch;
    gboolean running;
  } steps[] = {
    { "STOP", 1, FALSE },            /* the paused stretch keeps the epoch it stopped in */
    { "RTC_CHANGE", 1, FALSE },      /* harmless while paused */
    { "RESET", 2, FALSE },           /* memory may change while paused */
    { "RESUME", 3, TRUE },
    { "SOMETHING_NEW", 3, TRUE },    /* running: no new epoch, memory changes anyway */
    { "SHUTDOWN", 3, FALSE },
    { "SOMETHING_NEW", 4, FALSE },   /* unknown while paused: may have changed memory */
    { "STOP", 4, FALSE },
    { "WAKEUP", 5, TRUE },
    { "SUSPEND", 5, FALSE },
    { "GUEST_PANICKED", 5, FALSE },
  };
  for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
    feed(h, steps[i].name, 100 + i);
    g_assert_cmpuint(hw_history_get_epoch(h), ==, steps[i].epoch);
    g_assert_cmpint(hw_history_is_running(h), ==, steps[i].running);
  }
  g_assert_false(hw_history_changed_since(h, 5));
  g_assert_true(hw_history_changed_since(h, 4));
  guint n;
  const HwRunEvent *ev = hw_history_get_events(h, &n);
  g_assert_cmpuint(n, ==, G_N_ELEMENTS(steps));
  for (guint i = 0; i < n; i++) {
    g_assert_cmpstr(ev[i].name, ==, steps[i].name);
    g_assert_cmpint(ev[i].seconds, ==, 100 + (gint64)i);
    g_assert_cmpuint(ev[i].epoch, ==, steps[i].epoch);
  }
  const HwRunEvent *last = hw_history_find_last(h, "STOP", 0);
  g_assert_nonnull(last);
  g_assert_cmpint(last->seconds, ==, 107);
  g_assert_null(hw_history_find_last(h, "STOP", 8));
  g_assert_null(hw_history_find_last(h, "RESUME", 4));
  g_assert_nonnull(hw_history_find_last(h, "RESUME", 3));
}

/* query-status corrections: a run we never saw the RESUME of moves the epoch once. */
static void
test_status(void)
{
  g_autoptr(HwHistory) h = hw_history_new(FALSE);
  hw_history_set_running(h, FALSE);
  g_assert_cmpuint(hw_history_get_epoch(h), ==, 1);
  hw_history_set_running(h, TRUE);
  g_assert_cmpuint(hw_history_get_epoch(h), ==, 2);
  hw_history_set_running(h, TRUE);
  g_assert_cmpuint(hw_history_get_epoch(h), ==, 2);
  feed(h, "STOP", 1);
  hw_history_set_running(h, FALSE);
  g_assert_cmpuint(hw_history_get_epoch(h), ==, 2);
}

/* A flood of events keeps the newest (at most 65536); indexes still count dropped ones. */
static void
test_bound(void)
{
  g_autoptr(HwHistory) h = hw_history_new(FALSE);
  for (guint i = 0; i < 70000; i++)
    feed(h, i % 2 ? "STOP" : "RESUME", i);
  guint n;
  const HwRunEvent *ev = hw_history_get_events(h, &n);
  g_assert_cmpuint(n, <=, 65536);
  g_assert_cmpuint(n, >=, 65536 - 8192);
  g_assert_cmpuint(hw_history_get_count(h), ==, 70000);
  g_assert_cmpint(ev[0].seconds, ==, 70000 - (gint64)n);
  g_assert_cmpuint(hw_history_get_epoch(h), ==, 1 + 35000);
  const HwRunEvent *last = hw_history_find_last(h, "RESUME", 69998);
  g_assert_nonnull(last);
  g_assert_cmpint(last->seconds, ==, 69998);
  g_assert_null(hw_history_find_last(h, "RESUME", 69999));
  /* A name QEMU never sent, and an event without a name (hostile peer). */
  HwQmpEvent nameless = { NULL, 0, 0, NULL };
  hw_history_record(h, &nameless);
  g_assert_nonnull(hw_history_find_last(h, "?", 0));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/history/epochs", test_epochs);
  g_test_add_func("/history/status", test_status);
  g_test_add_func("/history/bound", test_bound);
  return g_test_run();
}
