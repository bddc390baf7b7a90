// `cmascope import --check` (kernel-model.md §1.9): the model booted from a capture against the
// capture itself. Exact rows must be equal; a row the model cannot represent exactly says why.
import { MT, MT_NAMES, NR_PAGE_ORDERS } from '../kernel/config.js';
import type { Kernel } from '../kernel/kernel.js';
import { cmaDebugfs, meminfo } from '../kernel/observe/procfs.js';
import type { ProcessSnapshot } from '../metrics/snapshot.js';
import type { Device } from './device.js';
import { spawned } from './workload-writer.js';

export interface CheckRow {
  what: string;
  capture: string;
  model: string;
  /** 'equal', 'differs' (an exact row that failed) or 'note: why they may differ' */
  status: string;
}

const sumRows = (rows: { counts: number[] }[]): number[] =>
  rows.reduce(
    (s, r) => s.map((v, o) => v + r.counts[o]!),
    new Array<number>(NR_PAGE_ORDERS).fill(0),
  );

/** Free blocks per order of migratetype `mt` (all: -1), summed over the model's zones. */
function modelFree(k: Kernel, mt: number): number[] {
  const out = new Array<number>(NR_PAGE_ORDERS).fill(0);
  for (const z of k.alloc.zones)
    for (let t = 0; t < MT_NAMES.length; t++) {
      if (mt >= 0 && t !== mt) continue;
      for (let o = 0; o < NR_PAGE_ORDERS; o++)
        for (const _ of k.alloc.freeBlocks(z, t, o)) out[o]!++;
    }
  return out;
}

function exact(what: string, capture: string | number, model: string | number): CheckRow {
  return {
    what,
    capture: String(capture),
    model: String(model),
    status: String(capture) === String(model) ? 'equal' : 'differs',
  };
}

/** The rows of the state at boot: buddyinfo, pagetypeinfo, meminfo, the CMA areas. */
export function checkBoot(d: Device, k: Kernel): CheckRow[] {
  const rows: CheckRow[] = [];
  const zones = d.buddyinfo.map((r) => r.zone);
  const merged = zones.length > 1 ? ` (${zones.join('+')})` : '';
  const buddy = exact(
    `buddyinfo${merged}`,
    sumRows(d.buddyinfo).join(' '),
    modelFree(k, -1).join(' '),
  );
  const byType = sumRows(Object.values(d.free).map((counts) => ({ counts }))).join(' ');
  if (buddy.status !== 'equal' && buddy.model === byType)
    buddy.status = "note: buddyinfo was read apart from pagetypeinfo, whose sum is the model's";
  rows.push(buddy);
  if (d.pagetypeinfoMissing)
    rows.push({
      what: 'pagetypeinfo',
      capture: 'missing',
      model: '-',
      status:
        "note: not in the capture (root only); the free blocks are buddyinfo's, split by CmaFree",
    });
  for (const [t, counts] of d.pagetypeinfoMissing ? [] : Object.entries(d.free)) {
    const mt = MT_NAMES.indexOf(t);
    if (mt < 0 || mt === MT.ISOLATE) {
      const n = counts.reduce((s, c) => s + c, 0);
      if (n > 0)
        rows.push({
          what: `pagetypeinfo ${t}`,
          capture: counts.join(' '),
          model: '-',
          status: 'note: isolated at the capture; the model boots with none',
        });
      continue;
    }
    rows.push(exact(`pagetypeinfo ${t}`, counts.join(' '), modelFree(k, mt).join(' ')));
  }
  const mi = meminfo(k);
  // the free pages pagetypeinfo lists, which the model boots with
  const freeKb =
    sumRows(
      Object.entries(d.free)
        .filter(([t]) => t !== 'Isolate')
        .map(([, counts]) => ({ counts })),
    ).reduce((s, c, o) => s + c * 2 ** o, 0) * 4;
  for (const key of ['MemTotal', 'MemFree', 'CmaTotal', 'CmaFree'] as const) {
    const c = d.meminfo.get(key);
    if (!c) continue;
    const row = exact(`meminfo ${key} kB`, c.value, mi[key]);
    if (key === 'MemTotal' && d.unreservedPages && mi.MemTotal - c.value === d.unreservedPages * 4)
      row.status = `note: ${d.unreservedPages} unmanaged pages lie above a CMA area's base; the model reserves only below it, so it manages them (in use)`;
    if (key === 'MemFree' && row.status !== 'equal' && mi.MemFree === freeKb)
      row.status = `note: meminfo was read apart from ${d.pagetypeinfoMissing ? 'buddyinfo' : 'pagetypeinfo'}, which sums to ${freeKb} kB`;
    if (key === 'CmaFree' && row.status !== 'equal')
      row.status =
        'note: meminfo was read apart from pagetypeinfo; the model has its CMA free blocks';
    rows.push(row);
  }
  for (const c of d.cma) {
    const area = k.cmaByName(c.name);
    if (!area) continue;
    const dbg = cmaDebugfs(k, area);
    if (c.used) rows.push(exact(`cma ${c.name} used`, c.used.value, dbg.used));
    if (c.maxchunk) rows.push(exact(`cma ${c.name} maxchunk`, c.maxchunk.value, dbg.maxchunk));
    if (c.bitmap) {
      const cap = [...c.bitmap.value].join(' ');
      const mod = dbg.bitmap.join(' ');
      rows.push({
        what: `cma ${c.name} bitmap`,
        capture: `${c.bitmap.value.length} words`,
        model: `${dbg.bitmap.length} words`,
        status: cap === mod ? 'equal' : 'differs',
      });
    }
  }
  return rows;
}

/** VmLck and VmPin of the spawned processes, in spawn order, against the capture's. */
export function checkProcesses(d: Device, procs: readonly ProcessSnapshot[]): CheckRow[] {
  const model = procs.filter((p) => p.pid > 100); // the main actor is pid 100
  return spawned(d).flatMap((p, i) => {
    const m = model[i];
    return [
      exact(`${p.name}[${p.pid}] VmLck kB`, p.lckKb, m?.VmLck ?? '-'),
      exact(`${p.name}[${p.pid}] VmPin kB`, p.pinKb, m?.VmPin ?? '-'),
    ];
  });
}

/** The table, aligned. */
export function formatCheck(rows: readonly CheckRow[]): string {
  const head = { what: 'WHAT', capture: 'CAPTURE', model: 'MODEL', status: 'STATUS' };
  const all = [head, ...rows];
  const w = (k: keyof CheckRow) => Math.max(...all.map((r) => r[k].length));
  return `${all.map((r) => `${r.what.padEnd(w('what'))}  ${r.capture.padEnd(w('capture'))}  ${r.model.padEnd(w('model'))}  ${r.status}`).join('\n')}\n`;
}
