// A headless run of the platform-P story (spec §7.0, C1 then C5), rendered as text.
import type { KernelVersion } from '../kernel/config.js';
import { Kernel } from '../kernel/kernel.js';
import { cmaAlloc } from '../kernel/mm/cma.js';
import { faultPage } from '../kernel/mm/memory.js';
import { ObjKind } from '../kernel/mm/rmap.js';
import { asLines, cmaDebugfs, cmaSysfs, meminfo, vmstat } from '../kernel/observe/procfs.js';
import { formatDuration } from '../sim/units.js';

export function summary(version: KernelVersion): string {
  const clock = { now: 0 };
  const k = new Kernel(
    { version, machine: { memory: '4GiB', cma: [{ name: 'svp', size: '256MiB' }] } },
    clock,
  );
  const svp = k.cma[0]!;
  const a = k.rmap.create(ObjKind.ANON, 16384, 'anon:player');
  for (let i = 0; i < 16384; i++) faultPage(k, a, i);
  const inCma = [...a.pages].filter((pfn) => svp.contains(pfn)).length;
  const gen = cmaAlloc(k, svp, 51200, 8);
  let r = gen.next();
  while (!r.done) {
    clock.now += r.value.ns;
    r = gen.next();
  }
  const out = r.value;
  const debugfs = cmaDebugfs(k, svp);
  return [
    `cmascope: kernel ${version}, 4 GiB, CMA area 'svp' 256 MiB at pfn 0x${svp.basePfn.toString(16)}`,
    `a process faulted 64 MiB of anon memory: ${inCma} of 16384 pages landed in CMA (CMA-first, spec §1.6)`,
    `cma_alloc(svp, 51200 pages, align 8): ${out.pfn >= 0 ? `pfn 0x${out.pfn.toString(16)}` : 'NULL'}, errno ${out.errno}, ${out.windows} window(s), ${out.migrated} pages migrated, ${formatDuration(out.latencyNs)} simulated`,
    '',
    '# /proc/meminfo (kB)',
    asLines(meminfo(k)),
    '',
    '# /proc/vmstat',
    asLines(vmstat(k)),
    '',
    `# /sys/kernel/mm/cma/${svp.name}/`,
    asLines(cmaSysfs(k, svp)),
    '',
    `# /sys/kernel/debug/cma/${svp.name}/ (without bitmap)`,
    asLines({ ...debugfs, bitmap: `${debugfs.bitmap.length} words` }),
    '',
    '# trace',
    ...k.trace
      .records()
      .filter((t) => t.name !== 'mm_migrate_pages')
      .map((t) => k.trace.line(t)),
    `(${k.trace.count('mm_migrate_pages')} mm_migrate_pages events not shown)`,
    '',
  ].join('\n');
}
