/* Shared by unit tests that read captured QEMU output from tests/data/. */
#pragma once

#include <glib.h>

#ifndef HW_TEST_DATA
#error "HW_TEST_DATA must name the tests/data directory"
#endif

/* The contents of tests/data/NAME (asserts it can be read). */
static inline char *
hw_test_load_data(const char *name)
{
  g_autofree char *path = g_build_filename(HW_TEST_DATA, name, NULL);
  g_autoptr(GError) error = NULL;
  char *text = NULL;
  g_file_get_contents(path, &text, NULL, &error);
  g_assert_no_error(error);
  return text;
}
