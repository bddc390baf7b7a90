// The workload `cmascope import` writes: a readable TypeScript file that boots a model of the
// captured device (device.ts machineOf, kernel-model.md §1.9), spawns the processes that hold
// locked or pinned memory, and asks the question: a cma_alloc of `size` from `area`. Every value
// cites the capture line it came from.
import { basename } from 'node:path';
import { type Device, machineOf } from './device.js';

/** How long the processes have to lock and pin their memory before the question. */
export const SETTLE = '1s';

const hex = (n: number) => `0x${n.toString(16)}`;
const mib = (bytes: number) =>
  bytes % (1 << 20) === 0 ? `'${bytes / (1 << 20)}MiB'` : `${bytes} /* bytes */`;
const list = (xs: readonly number[]) => `[${xs.join(', ')}]`;
/** A single-quoted string literal. */
const q = (text: string) => `'${text.replace(/[\\']/g, '\\$&')}'`;

/** The processes the workload spawns: those with locked or pinned memory. */
export const spawned = (d: Device) => d.processes.filter((p) => p.lckKb > 0 || p.pinKb > 0);

/** The generated workload's source. `file`: the capture's name, as the comments cite it. */
export function writeWorkload(d: Device, name: string): string {
  // the comments cite the capture by its name, without the directory it was imported from
  const file = basename(d.file);
  const cite = (...at: (string | undefined)[]) =>
    at
      .filter((a) => a !== undefined)
      .map((a) => a.split(d.file).join(file))
      .join(', ');
  const m = machineOf(d);
  const layout = m.layout!;
  const zones = d.zones.filter((z) => z.present.value > 0);
  const o: string[] = [];
  const area = d.cma[0]?.name ?? '';
  o.push(
    `// A model of the device captured in ${file}, written by \`cmascope import\`. Each value cites`,
    `// the capture line it came from. Kernel ${d.release.value} (${cite(d.release.at)}), modelled as ${d.version}.`,
  );
  for (const w of d.warnings) o.push(`// WARNING: ${w}.`);
  o.push(
    '//',
    '// The question: will a cma_alloc of `size` from `area` succeed on this device, now?',
    `//   cmascope run ${name}.ts --set area=${area || 'NAME'} --set size=64MiB`,
    `//   cmascope compare ${name}.ts --set size=64MiB --policy cmaRetry=upstream --policy cmaRetry=android`,
    '//',
    '// What the capture cannot tell is a param with a documented default (below). The model has one',
    '// Normal zone and an optional Movable one: the zones below are merged into them, in place.',
    `import { defineWorkload } from 'cmascope';`,
    '',
    '/**',
    ' * The processes of the capture (/proc/<pid>/status, limits): VmRSS, VmLck and VmPin in kB,',
    ' * CAP_IPC_LOCK (from CapEff), RLIMIT_MEMLOCK in bytes. Resident memory is already in use at',
    ' * boot (the layout below); the processes with locked or pinned memory are spawned to lock and',
    ' * pin it again, on pages allocated anew: MemFree at the question is lower than captured by',
    ' * their VmLck + VmPin.',
    ' */',
    'const processes = [',
  );
  for (const p of d.processes) {
    const lim =
      p.memlock === undefined
        ? ''
        : `, memlock: ${p.memlock === 'unlimited' ? "'unlimited'" : p.memlock}`;
    o.push(
      `  { pid: ${p.pid}, name: ${q(p.name)}, uid: ${p.uid}, rssKb: ${p.rssKb}, lckKb: ${p.lckKb}, pinKb: ${p.pinKb}, capIpcLock: ${p.capIpcLock}${lim} }, // ${cite(p.at)}`,
    );
  }
  o.push('];', '');
  o.push(
    'export default defineWorkload({',
    `  name: ${q(name)},`,
    `  description: ${q(`The device captured in ${file} (${d.release.value}): will a cma_alloc succeed?`)},`,
    `  kernel: { version: '${d.version}' },`,
    '  params: {',
    `    area: ${q(area)}, // the CMA area to allocate from${area ? '' : ' (the device has none)'}`,
    "    size: '16MiB', // the allocation: one cma_alloc through the area's DMA-BUF heap",
    "    pinVia: 'io_uring', // how VmPin is pinned: io_uring fixed buffers ('rdma': a memory region)",
    '    lockFirst: true, // lock the VmLck memory before pinning VmPin (the capture has no order)',
    "    // where the free blocks lie, which pagetypeinfo does not say: 'top' (the highest pfns of",
    "    // their pageblocks, as allocating lowest first leaves them) or 'spread' (the most fragmented)",
    "    arrange: 'top',",
    ...(area
      ? [
          '    // pages of `area` in use that hold a pin the capture cannot name (a TEE or driver pin;',
          '    // page_owner would tell), spread evenly over the movable pages in use there',
          '    cmaPinnedPages: 0,',
        ]
      : []),
    '  },',
    '  machine: (params) => ({',
  );
  o.push(
    `    // zones (/proc/zoneinfo): ${zones.map((z) => `${z.zone} pfn ${hex(z.startPfn?.value ?? 0)}+${z.spanned.value} (${cite(z.spanned.at)})`).join('; ')}`,
  );
  o.push(
    `    memory: ${mib(m.memory as number)}, // pfn ${hex(d.basePfn)} to ${hex(d.endPfn)}: the zones' span`,
  );
  if (m.dramBase !== undefined) o.push(`    dramBase: ${hex(m.dramBase as number)},`);
  if (m.movable !== undefined)
    o.push(`    movable: ${mib(m.movable as number)}, // the Movable zone`);
  const managed = zones
    .filter((z) => z.zone !== 'Movable')
    .map((z) => cite(z.managed.at))
    .join(', ');
  o.push(
    `    reserved: ${mib(m.reserved as number)}, // the span less the managed pages (${managed})`,
  );
  o.push(
    `    minFree: ${mib(m.minFree as number)}, // min_free_kbytes: the lowmem zones' WMARK_MIN (${cite(...d.minPages.at.split(', '))})`,
  );
  if (m.cma?.length) {
    o.push('    cma: [');
    for (const [i, c] of m.cma.entries()) {
      const dc = d.cma[i]!;
      const base = c.base === undefined ? '' : `, base: ${hex(c.base as number)}`;
      const opb = c.orderPerBit ? `, orderPerBit: ${c.orderPerBit}` : '';
      const at = cite(dc.count.at, dc.basePfn?.at, dc.orderPerBit.at);
      o.push(`      { name: ${q(c.name)}, size: ${mib(c.size as number)}${base}${opb} }, // ${at}`);
    }
    o.push('    ],');
  }
  o.push(
    '    // the state at boot (kernel-model.md §1.9): /proc/pagetypeinfo and the CMA bitmaps',
    '    layout: {',
    "      arrange: params.arrange as 'top' | 'spread',",
  );
  const blocks = cite(...d.pagetypeinfo.blocks.map((b) => b.at));
  const pbs = Object.entries(layout.pageblocks ?? {});
  o.push(`      // pageblocks per type, the rest Movable (${blocks || 'no table'})`);
  o.push(`      pageblocks: { ${pbs.map(([k, v]) => `${k}: ${v}`).join(', ')} },`);
  o.push('      // free blocks per order 0..10, summed over the zones');
  o.push('      free: {');
  for (const [t, counts] of Object.entries(layout.free)) {
    const at = cite(...d.pagetypeinfo.free.filter((r) => r.type === t).map((r) => r.at));
    o.push(`        ${t}: ${list(counts!)}, // ${at}`);
  }
  o.push('      },');
  if (layout.cmaAllocated) {
    o.push("      // the bitmaps' allocated runs [page offset, pages]: pages a CMA client holds");
    o.push('      cmaAllocated: {');
    for (const [n, runs] of Object.entries(layout.cmaAllocated)) {
      const at = cite(d.cma.find((c) => c.name === n)?.allocated?.at);
      o.push(`        ${q(n)}: [${runs.map(([a, b]) => `[${a}, ${b}]`).join(', ')}], // ${at}`);
    }
    o.push('      },');
  }
  if (area)
    o.push(
      '      cmaPinned: params.cmaPinnedPages ? { [params.area]: params.cmaPinnedPages } : {},',
    );
  o.push('    },', '  }),');
  o.push(
    '  *main(sys, params) {',
    '    const pids: number[] = [];',
    '    for (const proc of processes) {',
    '      if (proc.lckKb === 0 && proc.pinKb === 0) continue;',
    "      const memlock = proc.memlock ?? '8MiB';",
    '      const cred = { uid: proc.uid, capIpcLock: proc.capIpcLock, memlock };',
    '      const pid = sys.spawn(proc.name, cred, function* (p) {',
    '        const lock = function* () {',
    '          if (proc.lckKb === 0) return;',
    '          const buf = yield* p.mmapAnon(proc.lckKb * 1024, { locked: true }); // VmLck',
    "          if (typeof buf === 'string') return p.log('VmLck ' + proc.lckKb + ' kB: ' + buf);",
    '          yield* p.touch(buf);',
    '        };',
    '        const pin = function* () {',
    '          if (proc.pinKb === 0) return;',
    '          const buf = yield* p.mmapAnon(proc.pinKb * 1024); // VmPin',
    "          if (typeof buf === 'string') return p.log('VmPin ' + proc.pinKb + ' kB: ' + buf);",
    '          yield* p.touch(buf);',
    "          if (params.pinVia === 'rdma') {",
    "            const ctx = yield* p.open('/dev/infiniband/uverbs0');",
    "            if (typeof ctx === 'string') return p.log('VmPin: ' + ctx);",
    '            const mr = yield* p.rdmaRegMr(ctx, buf);',
    "            if (typeof mr === 'string') p.log('VmPin ' + proc.pinKb + ' kB: ' + mr);",
    '            return;',
    '          }',
    '          const ring = yield* p.ioUringSetup();',
    "          if (typeof ring === 'string') return p.log('VmPin: ' + ring);",
    '          const r = yield* p.ioUringRegisterBuffers(ring, [buf]);',
    "          if (typeof r === 'string') p.log('VmPin ' + proc.pinKb + ' kB: ' + r);",
    '        };',
    '        if (params.lockFirst) {',
    '          yield* lock();',
    '          yield* pin();',
    '        } else {',
    '          yield* pin();',
    '          yield* lock();',
    '        }',
    "        yield p.sleep('1h'); // holds its memory until the run ends",
    '      });',
    '      pids.push(pid);',
    '    }',
    `    yield sys.sleep('${SETTLE}');`,
    '    const t0 = sys.now();',
    '    const fd = yield* sys.dmaHeapAlloc(params.area, params.size);',
    "    sys.record('cma_alloc', typeof fd === 'string' ? fd : 'ok');",
    "    sys.record('alloc_ms', (sys.now() - t0) / 1e6);",
    '    for (const pid of pids) sys.kill(pid);',
    '  },',
    '});',
    '',
  );
  return o.join('\n');
}
