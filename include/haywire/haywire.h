/* haywire: look inside running QEMU guests from the host. */
#pragma once

#include <haywire/error.h>
#include <haywire/qmp.h>
#include <haywire/gdb.h>
#include <haywire/physmem.h>
#include <haywire/guest.h>
#include <haywire/mmu.h>
#include <haywire/btf.h>
#include <haywire/linux.h>
#include <haywire/drm.h>
#include <haywire/scan.h>
#include <haywire/image.h>
#include <haywire/picture.h>
#include <haywire/carve.h>
#include <haywire/owners.h>
#include <haywire/snapshot.h>
#include <haywire/dump.h>
#include <haywire/serial.h>
