#!/bin/bash
# Runs an example script as a TAP test: ok when it exits 0 and printed DONE_LINE.
# Usage: example.sh SCRIPT DONE_LINE
script=$1
done_line=$2
echo "1..1"
out=$("$script" 2>&1)
rc=$?
sed 's/^/# /' <<<"$out"
if [ "$rc" -eq 0 ] && grep -qx "$done_line" <<<"$out"; then
	echo "ok 1 $(basename "$script")"
else
	echo "not ok 1 $(basename "$script") (exit $rc)"
	exit 1
fi
