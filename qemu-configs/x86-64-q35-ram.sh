# shellcheck shell=bash
# haywire QEMU launch configuration: x86-64-q35-ram
# Sourced by scripts/boot-guest, which provides $RUN, $KERNEL, $INITRD, $MEM_FILE
# and the HAYWIRE_COMMON_ARGS array. Sets QEMU_CONFIG_DESC and the QEMU_ARGS array.
# shellcheck disable=SC2034

QEMU_CONFIG_DESC="q35, 512 MiB plain RAM (QEMU's default, and libvirt's: no memory backend given; haywire copies it out of QEMU's process), 1 vCPU"

QEMU_ARGS=(
	qemu-system-x86_64
	-accel tcg
	-machine q35
	-smp 1
	-m 512M
	# QMP (two sockets), GDB stub, serial log, no display: from boot-guest.
	"${HAYWIRE_COMMON_ARGS[@]}"
	-kernel "$KERNEL"
	-initrd "$INITRD"
	-append "console=ttyS0 panic=-1 quiet"
)
