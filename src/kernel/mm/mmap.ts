// Address spaces: VMAs over anon and file objects, faults, munmap, fork (kernel-model.md §4.5, §4.6, §5.3).
// Addresses are page numbers (virtual address >> PAGE_SHIFT) inside the model.
import { PAGEBLOCK_ORDER } from '../config.js';
import type { Charge } from './charge.js';
import { GFP_KERNEL } from './gfp.js';
import { type Memory, populatePage, putObject, releasePage } from './memory.js';
import { PageKind, PG_DIRTY, PG_MLOCKED } from './page.js';
import { type MemObject, ObjKind } from './rmap.js';

export const VM_READ = 1 << 0;
export const VM_WRITE = 1 << 1;
export const VM_SHARED = 1 << 2;
export const VM_LOCKED = 1 << 3;
export const VM_IO = 1 << 4;
export const VM_PFNMAP = 1 << 5;

/** File systems whose MAP_SHARED mappings need dirty tracking (writeback), §4.5. */
export type FsType = 'ext4' | 'xfs' | 'btrfs' | 'tmpfs' | 'memfd';
export const FS_TYPES: readonly FsType[] = ['ext4', 'xfs', 'btrfs', 'tmpfs', 'memfd'];
export const needsWriteback = (fs: FsType): boolean =>
  fs === 'ext4' || fs === 'xfs' || fs === 'btrfs';

/**
 * __vm_enough_memory() under the default vm.overcommit_memory = 0 (OVERCOMMIT_GUESS), for a
 * private writable mapping of `pages`: no more than all of RAM (there is no swap), else -ENOMEM.
 * Each mapping is judged alone, as the heuristic does.
 */
export const vmEnoughMemory = (k: { totalramPages(): number }, pages: number): boolean =>
  pages <= k.totalramPages();

/** An inode: its page cache is a FILE object. */
export interface Inode {
  readonly path: string;
  readonly fs: FsType;
  readonly obj: MemObject;
}

export class Vma {
  constructor(
    readonly mm: Mm,
    public start: number,
    public end: number,
    public flags: number,
    /** anon: the anon_vma; shared file: the inode's page cache; private file: its COW anon object */
    readonly obj: MemObject,
    /** object index of `start` */
    public pgoff: number,
    readonly inode: Inode | undefined,
    /** the page protection's memory type (optee_check_mem_type, §5.2) */
    readonly memtype: 'normal' | 'writecombine',
    /** page-cache pages this VMA maps, per page of the VMA (file-backed VMAs) */
    public ptes: Uint8Array | undefined,
  ) {}

  get pages(): number {
    return this.end - this.start;
  }

  /** The object index backing virtual page `va`. */
  index(va: number): number {
    return this.pgoff + (va - this.start);
  }

  /** try_to_unmap() for object index `idx`, if this VMA maps it (page-cache mappings). */
  unmapIndex(idx: number): void {
    const va = this.start + (idx - this.pgoff);
    if (va >= this.start && va < this.end && this.ptes?.[va - this.start]) this.mm.zap(this, va);
  }

  /** The page mapped at `va` (inside this VMA), or -1. */
  pageAt(va: number): number {
    if (this.ptes && !this.ptes[va - this.start]) return -1;
    return this.obj.pages[this.pgoff + (va - this.start)]!;
  }

  /** vma_needs_dirty_tracking(): a shared, writable mapping of a file system with writeback. */
  needsDirtyTracking(): boolean {
    return (
      this.inode !== undefined &&
      (this.flags & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE) &&
      needsWriteback(this.inode.fs)
    );
  }
}

/** Where new mappings start: the usual 0x7f... mmap base, in pages. */
const MMAP_BASE = 0x7f0000000;

export class Mm {
  readonly vmas: Vma[] = [];
  /** VmLck (§4.6) */
  lockedVm = 0;
  /** VmPin (§4.6) */
  pinnedVm = 0;
  /** the live charges of pinned_vm and locked_vm by pinning subsystems (pin_acct.ts) */
  readonly charges = new Set<Charge>();
  totalVm = 0;
  /** mlockall(MCL_FUTURE) */
  defFlags = 0;
  private nextVa = MMAP_BASE;
  /** one UNMOVABLE page-table page per 2 MiB of address space with a mapped page (C1) */
  private readonly ptePages = new Map<number, { pfn: number; used: number }>();

  constructor(private readonly k: Memory) {}

  /** find_vma() for exactly the page `va`. */
  findVma(va: number): Vma | undefined {
    return this.vmas.find((v) => va >= v.start && va < v.end);
  }

  /** get_unmapped_area + vma insert; the new mapping gets a guard page of space after it. */
  insert(
    pages: number,
    flags: number,
    obj: MemObject,
    pgoff: number,
    inode?: Inode,
    memtype: Vma['memtype'] = 'normal',
  ): Vma {
    const start = this.nextVa;
    this.nextVa += pages + 1;
    const ptes = inode && obj.kind === ObjKind.FILE ? new Uint8Array(pages) : undefined;
    const vma = new Vma(
      this,
      start,
      start + pages,
      flags | this.defFlags,
      obj,
      pgoff,
      inode,
      memtype,
      ptes,
    );
    obj.users++;
    if (ptes) obj.mappers.add(vma);
    this.vmas.push(vma);
    this.totalVm += pages;
    if (vma.flags & VM_LOCKED) this.lockedVm += pages;
    return vma;
  }

  /** Split so that a VMA boundary falls at `va` (split_vma). */
  split(va: number): void {
    const v = this.findVma(va);
    if (!v || v.start === va) return;
    const tail = new Vma(
      this,
      va,
      v.end,
      v.flags,
      v.obj,
      v.index(va),
      v.inode,
      v.memtype,
      v.ptes?.slice(va - v.start),
    );
    v.ptes = v.ptes?.slice(0, va - v.start);
    v.end = va;
    v.obj.users++;
    if (tail.ptes) v.obj.mappers.add(tail);
    this.vmas.splice(this.vmas.indexOf(v) + 1, 0, tail);
  }

  /**
   * The VMAs of [start, end) in address order, split at both ends, up to the first gap (the walk
   * of apply_vma_lock_flags and do_mprotect_pkey); `whole` says whether they cover the range.
   */
  range(start: number, end: number): { vmas: Vma[]; whole: boolean } {
    this.split(start);
    this.split(end);
    const inside = this.vmas
      .filter((v) => v.start >= start && v.end <= end)
      .sort((a, b) => a.start - b.start);
    let at = start;
    const vmas: Vma[] = [];
    for (const v of inside) {
      if (v.start !== at) break;
      vmas.push(v);
      at = v.end;
    }
    return { vmas, whole: at === end };
  }

  /** The page mapped at `va`, or -1 (follow_page). */
  pageAt(va: number): number {
    return this.findVma(va)?.pageAt(va) ?? -1;
  }

  /**
   * handle_mm_fault() for a read (or, `write`, a write) access to `va`: returns the pfn, or -1
   * when no page could be allocated. Under PF_MEMALLOC_PIN the page is never movable, so never
   * CMA (§1.6). A write to a shared file page marks it dirty.
   */
  fault(v: Vma, va: number, memallocPin: boolean, write = false): number {
    const idx = v.index(va);
    const present = v.obj.pages[idx]!;
    const mapped = v.ptes ? v.ptes[va - v.start] === 1 : present >= 0;
    const pages = this.k.alloc.pages;
    if (mapped) {
      if (write && v.ptes) pages.flags[present]! |= PG_DIRTY; // write-notify fault (§4.5)
      return present;
    }
    const swapBacked = v.inode !== undefined && !needsWriteback(v.inode.fs);
    const pfn = present >= 0 ? present : populatePage(this.k, v.obj, idx, memallocPin, swapBacked);
    if (pfn < 0) return -1;
    if (!this.mapPte(va)) {
      // no page-table page (VM_FAULT_OOM): an anon page is resident only while mapped, so the
      // page just allocated goes back; a page-cache page stays in the cache, unmapped
      if (present < 0 && !v.ptes) releasePage(this.k, v.obj, idx);
      return -1;
    }
    if (v.ptes) v.ptes[va - v.start] = 1;
    pages.mapcount[pfn]!++;
    if (v.flags & VM_LOCKED) pages.flags[pfn]! |= PG_MLOCKED;
    // do_shared_fault → fault_dirty_shared_page: a written shared file page is dirty
    if (write && v.ptes) pages.flags[pfn]! |= PG_DIRTY;
    return pfn;
  }

  /** Account a PTE in its page-table page, allocating it (GFP_KERNEL, unmovable) if needed. */
  private mapPte(va: number): boolean {
    const chunk = Math.floor(va / (1 << PAGEBLOCK_ORDER));
    const pt = this.ptePages.get(chunk);
    if (pt) {
      pt.used++;
      return true;
    }
    const pfn = this.k.alloc.allocPages(0, GFP_KERNEL, PageKind.KERNEL);
    if (pfn < 0) return false;
    this.ptePages.set(chunk, { pfn, used: 1 });
    return true;
  }

  private unmapPte(va: number): void {
    const chunk = Math.floor(va / (1 << PAGEBLOCK_ORDER));
    const pt = this.ptePages.get(chunk)!;
    if (--pt.used === 0) {
      this.k.alloc.freePages(pt.pfn, 0);
      this.ptePages.delete(chunk);
    }
  }

  /** zap_pte_range for one page: unmap it; free it unless something else still holds it. */
  zap(v: Vma, va: number): void {
    const idx = v.index(va);
    const pfn = v.obj.pages[idx]!;
    const mapped = v.ptes ? v.ptes[va - v.start] === 1 : pfn >= 0;
    if (!mapped) return;
    this.unmapPte(va);
    const pages = this.k.alloc.pages;
    if (v.ptes) {
      v.ptes[va - v.start] = 0;
      // the page stays in the page cache; unmapped from its last (locked) VMA it is munlocked (§3.5)
      if (--pages.mapcount[pfn]! === 0) pages.flags[pfn]! &= ~PG_MLOCKED;
      return;
    }
    pages.mapcount[pfn]!--;
    if (pages.mapcount[pfn]! > 0) return;
    v.obj.pages[idx] = -1;
    v.obj.nrResident--;
    if (pages.hasExtraRefs(pfn)) {
      // pinned or referenced: stays allocated, unmapped, until the last unpin/put (§5.3, C27)
      this.k.rmap.clearOwner(pfn);
      pages.flags[pfn]! &= ~PG_MLOCKED;
    } else {
      this.k.alloc.freePages(pfn, 0);
    }
  }

  /** munmap() of [start, end): pins survive (§5.3). */
  unmap(start: number, end: number): void {
    this.split(start);
    this.split(end);
    for (const v of this.vmas.filter((x) => x.start >= start && x.end <= end)) {
      for (let va = v.start; va < v.end; va++) this.zap(v, va);
      this.vmas.splice(this.vmas.indexOf(v), 1);
      v.obj.mappers.delete(v);
      this.totalVm -= v.pages;
      if (v.flags & VM_LOCKED) this.lockedVm -= v.pages;
      putObject(this.k, v.obj);
    }
  }

  /**
   * mprotect(): set or clear VM_WRITE over [start, end); false (-ENOMEM) at a gap, the VMAs before
   * it changed (mprotect_fixup).
   */
  protect(start: number, end: number, writable: boolean): boolean {
    const { vmas, whole } = this.range(start, end);
    for (const v of vmas) v.flags = writable ? v.flags | VM_WRITE : v.flags & ~VM_WRITE;
    return whole;
  }

  /** exit_mmap(). */
  exit(): void {
    for (const v of [...this.vmas]) this.unmap(v.start, v.end);
  }

  /** Resident pages mapped by this mm (VmRSS, in pages). */
  rss(): number {
    let n = 0;
    for (const v of this.vmas) {
      if (v.ptes) {
        for (const p of v.ptes) n += p;
      } else {
        for (let va = v.start; va < v.end; va++) if (v.obj.pages[v.index(va)]! >= 0) n++;
      }
    }
    return n;
  }

  /**
   * dup_mmap() at fork: shared mappings share their object; private anon memory is copied for the
   * child (eagerly: docs/fidelity.md). VM_LOCKED is not inherited; locked_vm and pinned_vm are 0.
   */
  fork(child: Mm, label: string): boolean {
    for (const v of this.vmas) {
      const shared = v.ptes !== undefined;
      if (!shared && !this.k.rmap.hasRoom(v.obj.pages.length)) return false;
      const obj = shared ? v.obj : this.k.rmap.create(ObjKind.ANON, v.obj.pages.length, label);
      const cv = child.insertAt(v, obj);
      for (let va = v.start; va < v.end; va++) {
        if (shared ? !v.ptes![va - v.start] : v.obj.pages[v.index(va)]! < 0) continue;
        if (child.fault(cv, va, false) < 0) return false;
      }
    }
    return true;
  }

  private insertAt(parent: Vma, obj: MemObject): Vma {
    const ptes = parent.ptes ? new Uint8Array(parent.pages) : undefined;
    const flags = parent.flags & ~VM_LOCKED;
    const v = new Vma(
      this,
      parent.start,
      parent.end,
      flags,
      obj,
      parent.pgoff,
      parent.inode,
      parent.memtype,
      ptes,
    );
    obj.users++;
    if (ptes) obj.mappers.add(v);
    this.vmas.push(v);
    this.totalVm += v.pages;
    this.nextVa = Math.max(this.nextVa, v.end + 1);
    return v;
  }
}
