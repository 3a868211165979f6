#!/bin/bash
# Run the test guest as a libvirt domain, with a libvirt daemon of the test's own when
# none is running (no systemd needed), and stop it again.
#
# Usage: libvirt-guest.sh start RUNDIR NAME VARIANT ASSETS   (VARIANT: plain, memfd, file)
#        libvirt-guest.sh stop RUNDIR NAME
# start prints HAYWIRE_DOMAIN=NAME once the guest says HWGUEST-READY; RUNDIR gets
# serial.log (the guest's console), qemu.pid and qmp-observer.sock (a second QMP socket
# for the test's own checks, given through <qemu:commandline>).
set -euo pipefail
URI=qemu:///system
cmd=$1 run=$2 name=$3
virsh_() { virsh -q -c "$URI" "$@"; }

if [ "$cmd" = stop ]; then
	virsh_ destroy "$name" >/dev/null 2>&1 || true
	virsh_ undefine "$name" >/dev/null 2>&1 || true
	if [ -f "$run/daemons-ours" ]; then
		for p in /run/libvirtd.pid /run/virtlogd.pid; do
			[ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
		done
	fi
	exit 0
fi

variant=$4 assets=$5
mkdir -p /run/libvirt /var/log/libvirt
# libvirtd hands QEMU's output to virtlogd: both must run.
if ! pgrep -x virtlogd >/dev/null; then
	virtlogd -d
	touch "$run/daemons-ours"
fi
if ! virsh_ version >/dev/null 2>&1; then
	libvirtd -d
	touch "$run/daemons-ours"
	for _ in $(seq 200); do
		virsh_ version >/dev/null 2>&1 && break
		sleep 0.1
	done
	virsh_ version >/dev/null || { echo "libvirt-guest: libvirtd did not come up" >&2; exit 1; }
fi

# QEMU runs as libvirt's user: it must reach the kernel, the initrd and the run dir.
chmod 0777 "$run"
cp "$assets/vmlinuz-amd64" "$run/vmlinuz"
cp "$assets/initramfs.cpio.gz" "$run/initrd"
chmod 0644 "$run/vmlinuz" "$run/initrd"
case "$variant" in
plain) backing="" ;;
memfd) backing="<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>" ;;
file) backing="<memoryBacking><source type='file'/><access mode='shared'/></memoryBacking>" ;;
*) echo "libvirt-guest: unknown variant $variant" >&2; exit 2 ;;
esac
cat >"$run/domain.xml" <<XML
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$name</name>
  <memory unit='MiB'>512</memory>
  $backing
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$run/vmlinuz</kernel>
    <initrd>$run/initrd</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet</cmdline>
  </os>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path='$run/serial.log'/></serial>
    <console type='file'><source path='$run/serial.log'/><target type='serial'/></console>
    <memballoon model='none'/>
  </devices>
  <seclabel type='none'/>
  <qemu:commandline>
    <qemu:arg value='-qmp'/>
    <qemu:arg value='unix:$run/qmp-observer.sock,server=on,wait=off'/>
  </qemu:commandline>
</domain>
XML
virsh_ define "$run/domain.xml" >/dev/null
virsh_ start "$name" >/dev/null
pidfile=/run/libvirt/qemu/$name.pid
for _ in $(seq 50); do [ -s "$pidfile" ] && break; sleep 0.1; done
tr -dc 0-9 <"$pidfile" >"$run/qemu.pid"
timeout=${HAYWIRE_BOOT_TIMEOUT:-120}
for _ in $(seq $((timeout * 10))); do
	grep -q 'HWGUEST-READY' "$run/serial.log" 2>/dev/null && break
	sleep 0.1
done
grep -q 'HWGUEST-READY' "$run/serial.log" || { echo "libvirt-guest: no HWGUEST-READY after ${timeout}s" >&2; exit 1; }
echo "HAYWIRE_DOMAIN=$name"
echo "HAYWIRE_QEMU_PID=$(cat "$run/qemu.pid")"
