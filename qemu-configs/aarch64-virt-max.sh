# shellcheck shell=bash
# haywire QEMU launch configuration: aarch64-virt-max
# Sourced by scripts/boot-guest, which provides $RUN, $KERNEL, $INITRD, $MEM_FILE
# and the HAYWIRE_COMMON_ARGS array. Sets QEMU_CONFIG_DESC and the QEMU_ARGS array.
# shellcheck disable=SC2034

QEMU_CONFIG_DESC="virt, 512 MiB shared file RAM at 1 GiB, -cpu max (4K pages, KASLR; E0PD, so no KPTI), 2 vCPUs"

QEMU_ARGS=(
	qemu-system-aarch64
	-accel tcg
	-machine "virt,memory-backend=ram0"
	-cpu max
	-smp 2
	-m 512M
	-object "memory-backend-file,id=ram0,size=512M,mem-path=$MEM_FILE,share=on"
	# QMP (two sockets), GDB stub, serial log, no display: from boot-guest.
	"${HAYWIRE_COMMON_ARGS[@]}"
	-kernel "$KERNEL"
	-initrd "$INITRD"
	-append "console=ttyAMA0 panic=-1 quiet"
)
