// A device as its capture describes it, and the machine that boots a model of it
// (kernel-model.md §1.9): the memory span and zones, the CMA areas with their bitmaps, the free
// blocks per order and migratetype, the processes, the nearest modelled kernel version.
import type { MachineSpec } from '../kernel/boot.js';
import {
  KERNEL_VERSIONS,
  type KernelVersion,
  MAX_PAGE_ORDER,
  NR_PAGE_ORDERS,
  PAGEBLOCK_NR_PAGES,
} from '../kernel/config.js';
import { features } from '../kernel/features.js';
import {
  type BootLayout,
  LAYOUT_FREE_TYPES,
  LAYOUT_PAGEBLOCK_TYPES,
  type LayoutFreeType,
} from '../kernel/mm/boot_layout.js';
import { PAGE_SIZE } from '../sim/units.js';
import { type Bundle, BundleError, UNAME } from './bundle.js';
import {
  type Cited,
  type FreeRow,
  type PagetypeInfo,
  type ProcessInfo,
  parseBitmap,
  parseBuddyinfo,
  parseMeminfo,
  parseMemlock,
  parseNumber,
  parsePagetypeinfo,
  parseStatus,
  parseUname,
  parseZoneinfo,
  type ZoneInfo,
} from './procfs.js';

export interface DeviceCma {
  name: string;
  basePfn?: Cited<number>;
  count: Cited<number>;
  orderPerBit: Cited<number>;
  /** debugfs `used` and `maxchunk`, when debugfs was mounted */
  used?: Cited<number>;
  maxchunk?: Cited<number>;
  /** the allocated runs of the debugfs bitmap, [page offset, pages] */
  allocated?: Cited<[number, number][]>;
  bitmap?: Cited<Uint32Array>;
}

export interface Device {
  file: string;
  release: Cited<string>;
  version: KernelVersion;
  /** what the import had to guess: another kernel version, a missing pagetypeinfo */
  warnings: string[];
  /** pagetypeinfo was not in the capture (root only since 5.4): its rows come from buddyinfo */
  pagetypeinfoMissing: boolean;
  zones: ZoneInfo[];
  meminfo: Map<string, Cited<number>>;
  buddyinfo: FreeRow[];
  pagetypeinfo: PagetypeInfo;
  /** free blocks per migratetype and order, summed over zones; capped counts filled from buddyinfo */
  free: Record<string, number[]>;
  cma: DeviceCma[];
  processes: ProcessInfo[];
  /** the model's memory: [base, end) pfns, ZONE_MOVABLE pages, reserved pages, WMARK_MIN */
  basePfn: number;
  endPfn: number;
  movablePages: number;
  reservedPages: number;
  /**
   * pages neither managed nor reservable: the model reserves memory at the bottom of the span
   * only, below the lowest CMA area; the rest of the unmanaged pages are managed, in use
   */
  unreservedPages: number;
  minPages: Cited<number>;
}

/** 6.4 or 6.18, whichever is nearer to major.minor (ties: the newer). */
export function nearestVersion(major: number, minor: number): KernelVersion {
  const n = major * 100 + minor;
  const dist = (v: KernelVersion) => {
    const [a, b] = v.split('.').map(Number);
    return Math.abs(a! * 100 + b! - n);
  };
  return [...KERNEL_VERSIONS].sort((x, y) => dist(x) - dist(y) || (x === '6.18' ? -1 : 1))[0]!;
}

/** The runs of set bits of a CMA bitmap, as [page offset, pages]. */
export function allocatedRuns(
  words: Uint32Array,
  bits: number,
  orderPerBit: number,
): [number, number][] {
  const runs: [number, number][] = [];
  let start = -1;
  for (let i = 0; i <= bits; i++) {
    const set = i < bits && ((words[i >>> 5] ?? 0) >>> (i & 31)) & 1;
    if (set && start < 0) start = i;
    if (!set && start >= 0) {
      runs.push([start << orderPerBit, (i - start) << orderPerBit]);
      start = -1;
    }
  }
  return runs;
}

const DEBUGFS = '/sys/kernel/debug/cma/';
const SYSFS = '/sys/kernel/mm/cma/';

function readCma(b: Bundle, meminfo: Map<string, Cited<number>>): DeviceCma[] {
  const names = new Set<string>();
  for (const s of [...b.under(DEBUGFS), ...b.under(SYSFS)]) {
    const rest = s.path.slice(s.path.startsWith(DEBUGFS) ? DEBUGFS.length : SYSFS.length);
    const name = rest.split('/')[0]!;
    if (name && rest.includes('/')) names.add(name);
  }
  const out: DeviceCma[] = [];
  for (const name of names) {
    const num = (path: string) => {
      const s = b.get(path);
      return s ? parseNumber(b, s) : undefined;
    };
    const d = `${DEBUGFS}${name}/`;
    const count = num(`${d}count`) ?? num(`${SYSFS}${name}/total_pages`);
    const single = names.size === 1 ? meminfo.get('CmaTotal') : undefined;
    const cnt = count ?? (single && { value: single.value / 4, at: single.at });
    if (!cnt) {
      throw new BundleError(
        `${b.file}: CMA area '${name}': its size is in neither ${d}count nor ${SYSFS}${name}/total_pages (6.9+)`,
      );
    }
    const opb = num(`${d}order_per_bit`) ?? { value: 0, at: 'default: 0 (no debugfs)' };
    const area: DeviceCma = { name, count: cnt, orderPerBit: opb };
    const base = num(`${d}base_pfn`);
    if (base) area.basePfn = base;
    const used = num(`${d}used`);
    if (used) area.used = used;
    const maxchunk = num(`${d}maxchunk`);
    if (maxchunk) area.maxchunk = maxchunk;
    const bm = b.get(`${d}bitmap`);
    if (bm) {
      const bitmap = parseBitmap(b, bm);
      const bits = cnt.value >> opb.value;
      if (bitmap.value.length * 32 < bits)
        throw b.error(bm, 0, `${bitmap.value.length} words cannot hold the area's ${bits} bits`);
      area.bitmap = bitmap;
      area.allocated = { value: allocatedRuns(bitmap.value, bits, opb.value), at: bitmap.at };
    }
    out.push(area);
  }
  return out;
}

/**
 * Without pagetypeinfo: buddyinfo's free blocks, summed over zones, as CMA blocks (the largest
 * first, up to `cmaPages`) and Movable ones.
 */
function splitBuddyinfo(buddy: FreeRow[], cmaPages: number): FreeRow[] {
  const total = buddy.reduce(
    (s, r) => s.map((v, o) => v + r.counts[o]!),
    new Array<number>(NR_PAGE_ORDERS).fill(0),
  );
  const cma = new Array<number>(NR_PAGE_ORDERS).fill(0);
  let left = cmaPages;
  for (let o = MAX_PAGE_ORDER; o >= 0; o--) {
    cma[o] = Math.min(total[o]!, Math.floor(left / 2 ** o));
    left -= cma[o]! * 2 ** o;
  }
  const at = buddy.map((r) => r.at).join(', ');
  const row = (type: string, counts: number[]): FreeRow => ({
    zone: 'all',
    type,
    counts,
    capped: [],
    at,
  });
  const movable = row(
    'Movable',
    total.map((c, o) => c - cma[o]!),
  );
  return cmaPages > 0 ? [movable, row('CMA', cma)] : [movable];
}

/** Free blocks per type summed over zones; a count pagetypeinfo capped comes from buddyinfo. */
function freeByType(pt: PagetypeInfo, buddy: FreeRow[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const row of pt.free) {
    const counts = [...row.counts];
    for (const o of row.capped) {
      const zoneRows = pt.free.filter((r) => r.zone === row.zone);
      const total = buddy.find((r) => r.zone === row.zone)?.counts[o];
      const others = zoneRows.filter((r) => r !== row);
      if (total === undefined || others.some((r) => r.capped.includes(o)))
        throw new BundleError(
          `${row.at}: the order-${o} count of ${row.zone} ${row.type} is capped ('>100000') and buddyinfo cannot give it`,
        );
      counts[o] = total - others.reduce((n, r) => n + r.counts[o]!, 0);
    }
    const sum = out[row.type!] ?? new Array<number>(NR_PAGE_ORDERS).fill(0);
    out[row.type!] = sum;
    counts.forEach((c, o) => {
      sum[o]! += c;
    });
  }
  return out;
}

/** Read everything the import needs from a bundle; a BundleError names file:line. */
export function readDevice(b: Bundle): Device {
  const uname = parseUname(b, b.need(UNAME, 'the kernel version'));
  const { major, minor, text } = uname.value;
  const version = nearestVersion(major, minor);
  const meminfo = parseMeminfo(b, b.need('/proc/meminfo', 'MemTotal and MemFree'));
  const zones = parseZoneinfo(b, b.need('/proc/zoneinfo', 'the memory and its zones'));
  const buddyinfo = parseBuddyinfo(b, b.need('/proc/buddyinfo', 'the free blocks per order'));
  const pt = b.get('/proc/pagetypeinfo');
  const cmaFree = meminfo.get('CmaFree')?.value ?? 0;
  const pagetypeinfo = pt
    ? parsePagetypeinfo(b, pt)
    : { free: splitBuddyinfo(buddyinfo, cmaFree / 4), blocks: [] };
  const populated = zones.filter((z) => z.present.value > 0 && z.startPfn);
  if (populated.length === 0)
    throw new BundleError(`${b.file}: /proc/zoneinfo has no zone with pages`);
  const movable = populated.find((z) => z.zone === 'Movable');
  const normal = populated.filter((z) => z !== movable);
  const first = Math.min(...populated.map((z) => z.startPfn!.value));
  const last = Math.max(...populated.map((z) => z.startPfn!.value + z.spanned.value));
  const basePfn = first & ~((1 << MAX_PAGE_ORDER) - 1);
  const endPfn = Math.ceil(last / PAGEBLOCK_NR_PAGES) * PAGEBLOCK_NR_PAGES;
  const movablePages = movable
    ? endPfn - (movable.startPfn!.value & ~((1 << MAX_PAGE_ORDER) - 1))
    : 0;
  const managedNormal = normal.reduce((n, z) => n + z.managed.value, 0);
  // pages_min (min_free_kbytes): the lowmem zones' WMARK_MIN add up to it, and 6.4 counts
  // ZONE_MOVABLE as lowmem (kernel-model.md §1.7)
  const lowmem = features(version).wmarkMovableNotLowmem ? normal : populated;
  const minSum = lowmem.reduce((n, z) => n + z.min.value, 0);
  const device: Device = {
    file: b.file,
    release: { value: text, at: uname.at },
    version,
    warnings: [],
    pagetypeinfoMissing: !pt,
    zones,
    meminfo,
    buddyinfo,
    pagetypeinfo,
    free: freeByType(pagetypeinfo, buddyinfo),
    cma: readCma(b, meminfo),
    processes: readProcesses(b),
    basePfn,
    endPfn,
    movablePages,
    reservedPages: 0,
    unreservedPages: 0,
    minPages: { value: minSum, at: lowmem.map((z) => z.min.at).join(', ') },
  };
  // holes and memory the kernel keeps: at the bottom of the span, up to the lowest CMA area
  const unmanaged = endPfn - movablePages - basePfn - managedNormal;
  const cmaBases = device.cma.flatMap((c) => (c.basePfn ? [c.basePfn.value] : []));
  const room = Math.min(unmanaged, ...cmaBases.map((p) => p - basePfn));
  device.reservedPages = Math.max(0, room);
  device.unreservedPages = unmanaged - device.reservedPages;
  if (`${major}.${minor}` !== version)
    device.warnings.push(
      `the device runs ${text}; the model has 6.4 and 6.18, and ${version} is the nearest`,
    );
  if (!pt)
    device.warnings.push(
      `no /proc/pagetypeinfo in ${b.file} (it is root only): buddyinfo's free blocks are taken as Movable, but for CmaFree's worth in CMA, the largest first`,
    );
  return device;
}

function readProcesses(b: Bundle): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const s of b.under('/proc/')) {
    const m = /^\/proc\/(\d+)\/status$/.exec(s.path);
    if (!m) continue;
    const p = parseStatus(b, s, Number(m[1]));
    if (!p) continue;
    const limits = b.get(`/proc/${m[1]}/limits`);
    const memlock = limits ? parseMemlock(b, limits) : undefined;
    if (memlock !== undefined) p.memlock = memlock;
    out.push(p);
  }
  return out;
}

/** The machine that boots in the captured state (§1.9). */
export function machineOf(d: Device): MachineSpec {
  const free: BootLayout['free'] = {};
  for (const t of LAYOUT_FREE_TYPES) if (d.free[t]) free[t as LayoutFreeType] = d.free[t];
  const pageblocks: BootLayout['pageblocks'] = {};
  for (const t of LAYOUT_PAGEBLOCK_TYPES) {
    const n = d.pagetypeinfo.blocks.reduce((s, r) => s + (r.counts[t] ?? 0), 0);
    if (n > 0) pageblocks[t] = n;
  }
  const cmaAllocated: Record<string, [number, number][]> = {};
  for (const c of d.cma) if (c.allocated?.value.length) cmaAllocated[c.name] = c.allocated.value;
  const layout: BootLayout = { pageblocks, free };
  if (Object.keys(cmaAllocated).length) layout.cmaAllocated = cmaAllocated;
  const m: MachineSpec = {
    memory: (d.endPfn - d.basePfn) * PAGE_SIZE,
    reserved: d.reservedPages * PAGE_SIZE,
    minFree: d.minPages.value * PAGE_SIZE,
    layout,
  };
  if (d.basePfn) m.dramBase = d.basePfn * PAGE_SIZE;
  if (d.movablePages) m.movable = d.movablePages * PAGE_SIZE;
  if (d.cma.length)
    m.cma = d.cma.map((c) => ({
      name: c.name,
      size: c.count.value * PAGE_SIZE,
      ...(c.basePfn ? { base: c.basePfn.value * PAGE_SIZE } : {}),
      ...(c.orderPerBit.value ? { orderPerBit: c.orderPerBit.value } : {}),
    }));
  return m;
}
