# shellcheck shell=bash
# haywire QEMU launch configuration: x86-64-pc-share-off
# Sourced by scripts/boot-guest, which provides $RUN, $KERNEL, $INITRD, $MEM_FILE
# and the HAYWIRE_COMMON_ARGS array. Sets QEMU_CONFIG_DESC and the QEMU_ARGS array.
# shellcheck disable=SC2034

QEMU_CONFIG_DESC="pc, 256 MiB file RAM with share=off (copy-on-write: outside mmap sees stale data; negative test only), qemu64, 1 vCPU"

QEMU_ARGS=(
	qemu-system-x86_64
	-accel tcg
	-machine "pc,memory-backend=ram0"
	-smp 1
	-m 256M
	-object "memory-backend-file,id=ram0,size=256M,mem-path=$MEM_FILE,share=off"
	# QMP (two sockets), GDB stub, serial log, no display: from boot-guest.
	"${HAYWIRE_COMMON_ARGS[@]}"
	-kernel "$KERNEL"
	-initrd "$INITRD"
	-append "console=ttyS0 panic=-1 quiet"
)
