# shellcheck shell=bash
# haywire QEMU launch configuration: x86-64-la57
# Sourced by scripts/boot-guest, which provides $RUN, $KERNEL, $INITRD and
# $MEM_FILE. Sets QEMU_CONFIG_DESC and the QEMU_ARGS array.
# shellcheck disable=SC2034

QEMU_CONFIG_DESC="q35, 512 MiB shared file RAM, -cpu max (LA57: 5-level paging), 1 vCPU"

QEMU_ARGS=(
	qemu-system-x86_64
	-accel tcg
	-machine "q35,memory-backend=ram0"
	-cpu "max"
	-smp 1
	-m 512M
	-object "memory-backend-file,id=ram0,size=512M,mem-path=$MEM_FILE,share=on"
	-qmp "unix:$RUN/qmp.sock,server=on,wait=off"
	# A second QMP socket: QEMU serves one client per socket, so observers
	# (tests, launch scripts) use this one while haywire holds the first.
	-qmp "unix:$RUN/qmp-observer.sock,server=on,wait=off"
	-gdb "unix:$RUN/gdb.sock,server=on,wait=off"
	-serial "file:$RUN/serial.log"
	-display none
	-nodefaults
	-no-reboot
	-kernel "$KERNEL"
	-initrd "$INITRD"
	-append "console=ttyS0 panic=-1 quiet"
)
