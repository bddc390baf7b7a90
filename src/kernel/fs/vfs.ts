// Files and their page cache: regular files on ext4/xfs/btrfs/tmpfs and memfds; buffered reads
// fill the page cache with MOVABLE (so CMA-eligible) pages; mmap of a file (kernel-model.md §4.5, §6 item 1).
import { PAGE_SIZE } from '../../sim/units.js';
import { ERRNO } from '../config.js';
import type { Kernel } from '../kernel.js';
import { cleancachePut } from '../mm/cleancache.js';
import { populatePage, putObject } from '../mm/memory.js';
import { mlockFutureOk } from '../mm/mlock.js';
import {
  type FsType,
  type Inode,
  needsWriteback,
  VM_LOCKED,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  vmEnoughMemory,
} from '../mm/mmap.js';
import { PG_DIRTY, PG_MLOCKED } from '../mm/page.js';
import { type MemObject, ObjKind } from '../mm/rmap.js';
import type { Task } from '../task.js';
import { File } from './file.js';

const inodes = new WeakMap<File, Inode>();

/**
 * The model's largest file, 1 TiB (as its largest machine): larger is -EFBIG, as ftruncate() gives
 * above the file system's s_maxbytes (ext4: 16 TiB; tmpfs, xfs, btrfs: 8 EiB).
 */
const MAX_FILE_BYTES = 2 ** 40;

/** The page cache object of a new `size`-byte file, or a negative errno. */
function fileObject(k: Kernel, size: number, label: string): MemObject | number {
  if (size > MAX_FILE_BYTES) return -ERRNO.EFBIG;
  const pages = Math.ceil(size / PAGE_SIZE);
  return k.rmap.hasRoom(pages) ? k.rmap.create(ObjKind.FILE, pages, label) : -ERRNO.ENOMEM;
}

/** open(path, O_CREAT) of a `size`-byte file on `fs`; the inode persists after close. */
export function openFile(k: Kernel, task: Task, path: string, fs: FsType, size: number): number {
  let inode = k.inodes.get(path);
  if (!inode) {
    const obj = fileObject(k, size, path);
    if (typeof obj === 'number') return obj;
    obj.users++; // the inode's own reference
    inode = { path, fs, obj };
    k.inodes.set(path, inode);
  }
  const file = new File('regular', () => {});
  inodes.set(file, inode);
  return task.files.install(file);
}

/** memfd_create(): a shmem file with no name in the file system. */
export function memfdCreate(k: Kernel, task: Task, name: string, size: number): number {
  const obj = fileObject(k, size, `memfd:${name}`);
  if (typeof obj === 'number') return obj;
  obj.users++; // the file; mappings add theirs, and the last one frees the pages
  const inode: Inode = { path: `/memfd:${name}`, fs: 'memfd', obj };
  const file = new File('regular', () => putObject(k, obj));
  inodes.set(file, inode);
  return task.files.install(file);
}

export const inodeOf = (task: Task, fd: number): Inode | undefined => {
  const f = task.files.get(fd);
  return f ? inodes.get(f) : undefined;
};

/** Buffered read (or write: the pages become dirty) of [offset, offset+len): fills the page cache. */
export function fileRw(
  k: Kernel,
  task: Task,
  fd: number,
  offset: number,
  len: number,
  write: boolean,
): number {
  const inode = inodeOf(task, fd);
  if (!inode) return -ERRNO.EBADF;
  const first = Math.floor(offset / PAGE_SIZE);
  const end = Math.min(inode.obj.pages.length, Math.ceil((offset + len) / PAGE_SIZE));
  const swapBacked = !needsWriteback(inode.fs);
  for (let i = first; i < end; i++) {
    const pfn = populatePage(k, inode.obj, i, false, swapBacked);
    if (pfn < 0) return i === first ? -ERRNO.ENOMEM : (i - first) * PAGE_SIZE;
    if (write) k.alloc.pages.flags[pfn]! |= PG_DIRTY;
  }
  return Math.max(0, end - first) * PAGE_SIZE;
}

/** mmap(fd): MAP_SHARED maps the page cache; MAP_PRIVATE writes copy into anon memory. */
export function mmapFile(
  k: Kernel,
  task: Task,
  fd: number,
  len: number,
  opts: { shared: boolean; writable: boolean; offset?: number },
): number {
  const inode = inodeOf(task, fd);
  if (!inode) return -ERRNO.EBADF;
  const pages = Math.ceil(len / PAGE_SIZE);
  const pgoff = Math.floor((opts.offset ?? 0) / PAGE_SIZE);
  if (pages === 0 || pgoff + pages > inode.obj.pages.length) return -ERRNO.EINVAL;
  const flags = VM_READ | (opts.writable ? VM_WRITE : 0) | (opts.shared ? VM_SHARED : 0);
  // do_mmap: mlockall(MCL_FUTURE)'s def_flags make the mapping VM_LOCKED, limit-checked (§4.6)
  if (!mlockFutureOk(task, flags | task.mm.defFlags, pages)) return -ERRNO.EAGAIN;
  if (!opts.shared) {
    // mmap_region(): a private writable mapping is accountable; the COW object spans the file
    if (opts.writable && !vmEnoughMemory(k, pages)) return -ERRNO.ENOMEM;
    if (!k.rmap.hasRoom(inode.obj.pages.length)) return -ERRNO.ENOMEM;
  }
  const obj = opts.shared
    ? inode.obj
    : k.rmap.create(ObjKind.ANON, inode.obj.pages.length, `cow:${inode.path}`);
  const v = task.mm.insert(pages, flags, obj, pgoff, inode);
  // mm_populate() of a VM_LOCKED mapping, as for anon memory
  if (v.flags & VM_LOCKED) for (let va = v.start; va < v.end; va++) task.mm.fault(v, va, false);
  return v.start * PAGE_SIZE;
}

/** Drop one clean page-cache page if nothing maps or references it. */
function dropPage(k: Kernel, inode: Inode, idx: number): boolean {
  const pfn = inode.obj.pages[idx]!;
  if (pfn < 0) return false;
  const pages = k.alloc.pages;
  if (pages.mapcount[pfn]! > 0 || pages.hasExtraRefs(pfn)) return false;
  if (pages.flags[pfn]! & (PG_DIRTY | PG_MLOCKED)) return false;
  inode.obj.pages[idx] = -1;
  inode.obj.nrResident--;
  k.alloc.freePages(pfn, 0);
  cleancachePut(k); // a copy survives in a GCMA area, if there is room (§6 item 1)
  return true;
}

/** echo 1 > /proc/sys/vm/drop_caches: clean, unmapped, unreferenced page cache. Returns pages. */
export function dropCaches(k: Kernel): number {
  let n = 0;
  for (const inode of k.inodes.values()) {
    for (let i = 0; i < inode.obj.pages.length; i++) if (dropPage(k, inode, i)) n++;
  }
  return n;
}
