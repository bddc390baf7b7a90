// The script `cmascope capture` prints: POSIX sh with busybox or toybox tools, run on the device
// (`adb shell sh -s < capture.sh > dev.txt`, `ssh host sh -s < capture.sh > dev.txt`). It only
// reads: every file goes to stdout under a `==> PATH <==` header (bundle.ts), a file the device
// does not have as `==> PATH <== (missing)`. Trace events are read from trace_pipe only if they
// are already enabled: the script never writes to tracefs.
import { BUNDLE_MAGIC, UNAME } from './bundle.js';

export interface CaptureOptions {
  /** bytes of /sys/kernel/debug/page_owner to keep (0: none) */
  pageOwnerBytes: number;
  /** seconds of trace_pipe to read (0: none) */
  traceSeconds: number;
}

export function captureScript(o: CaptureOptions): string {
  return `#!/bin/sh
# cmascope capture: the memory state of this device, for \`cmascope import\`.
# Reads only; needs sh, uname, grep, head and timeout (busybox or toybox).
# Run: adb shell sh -s < capture.sh > dev.txt   (or: ssh host sh -s < capture.sh > dev.txt)
PAGE_OWNER_BYTES=${o.pageOwnerBytes}
TRACE_SECONDS=${o.traceSeconds}

# show PATH: the file under its header, its last line ended, or a note that it is missing
show() {
  if [ -r "$1" ] && [ -f "$1" ]; then
    echo "==> $1 <=="
    while IFS= read -r line || [ -n "$line" ]; do printf '%s\\n' "$line"; done < "$1"
  else
    echo "==> $1 <== (missing)"
  fi
}

echo '${BUNDLE_MAGIC}'
echo '==> ${UNAME} <=='
uname -r
for f in /proc/meminfo /proc/zoneinfo /proc/buddyinfo /proc/pagetypeinfo /proc/vmstat; do
  show "$f"
done

# CMA areas: sysfs (5.13+) and debugfs (when mounted)
if [ -d /sys/kernel/mm/cma ]; then
  for f in /sys/kernel/mm/cma/*/*; do [ -f "$f" ] && show "$f"; done
else
  echo '==> /sys/kernel/mm/cma <== (missing)'
fi
if [ -d /sys/kernel/debug/cma ]; then
  for d in /sys/kernel/debug/cma/*; do
    [ -d "$d" ] || continue
    for n in base_pfn count order_per_bit used maxchunk bitmap; do show "$d/$n"; done
  done
else
  echo '==> /sys/kernel/debug/cma <== (missing)'
fi

# processes: who they are (and whether they have CAP_IPC_LOCK), what they hold resident, locked
# and pinned, and their memlock limit
for d in /proc/[0-9]*; do
  s=$(grep -E '^(Name|Uid|CapEff|VmRSS|VmLck|VmPin):' "$d/status" 2>/dev/null) || continue
  echo "==> $d/status <=="
  printf '%s\\n' "$s"
  l=$(grep '^Max locked memory' "$d/limits" 2>/dev/null) && { echo "==> $d/limits <=="; printf '%s\\n' "$l"; }
done

# optional: page_owner (CONFIG_PAGE_OWNER and page_owner=on), at most PAGE_OWNER_BYTES
if [ "$PAGE_OWNER_BYTES" -gt 0 ]; then
  if [ -r /sys/kernel/debug/page_owner ]; then
    echo '==> /sys/kernel/debug/page_owner <=='
    head -c "$PAGE_OWNER_BYTES" /sys/kernel/debug/page_owner | grep -v '^==> '
    echo
  else
    echo '==> /sys/kernel/debug/page_owner <== (missing)'
  fi
fi

# optional: TRACE_SECONDS of the cma, migrate and page_isolation events, if someone enabled them
if [ "$TRACE_SECONDS" -gt 0 ]; then
  t=
  for p in /sys/kernel/tracing /sys/kernel/debug/tracing; do [ -r "$p/trace_pipe" ] && t=$p && break; done
  if [ -n "$t" ] && command -v timeout > /dev/null; then
    for e in cma migrate page_isolation; do show "$t/events/$e/enable"; done
    echo "==> $t/trace_pipe <=="
    timeout "$TRACE_SECONDS" cat "$t/trace_pipe" 2>/dev/null | grep -E 'cma_|mm_migrate|isolat'
  else
    echo '==> /sys/kernel/tracing/trace_pipe <== (missing)'
  fi
fi
`;
}
