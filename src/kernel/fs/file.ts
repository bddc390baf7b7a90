// Open files and descriptor tables: a file is released when its last reference goes, whether the
// references are dup'ed fds, fds inherited across fork, or in-flight users (kernel-model.md §5.3).

export type FileKind =
  | 'regular'
  | 'tee_ctx'
  | 'tee_shm'
  | 'dma_buf'
  | 'dma_heap'
  | 'io_uring'
  | 'rdma'
  | 'vfio';

/** struct file: a counted reference with a release hook (fput → ->release). */
export class File {
  refs = 1;

  constructor(
    readonly kind: FileKind,
    private readonly onRelease: () => void,
  ) {}

  get(): this {
    this.refs++;
    return this;
  }

  /** fput(): the last put runs ->release. */
  put(): void {
    if (--this.refs === 0) this.onRelease();
  }
}

/** A process's file descriptor table. */
export class FdTable {
  private readonly fds: (File | undefined)[] = [];

  /** The lowest free descriptor (fd_install). */
  install(file: File): number {
    let fd = this.fds.indexOf(undefined);
    if (fd < 0) fd = this.fds.length;
    this.fds[fd] = file;
    return fd;
  }

  get(fd: number): File | undefined {
    return Number.isInteger(fd) && fd >= 0 ? this.fds[fd] : undefined;
  }

  dup(fd: number): number {
    const f = this.get(fd);
    return f ? this.install(f.get()) : -1;
  }

  /** close(): false for a descriptor that is not open (EBADF). */
  close(fd: number): boolean {
    const f = this.get(fd);
    if (!f) return false;
    this.fds[fd] = undefined;
    f.put();
    return true;
  }

  /** dup_fd() at fork: the child shares every open file. */
  fork(): FdTable {
    const child = new FdTable();
    this.fds.forEach((f, fd) => {
      if (f) child.fds[fd] = f.get();
    });
    return child;
  }

  /** exit_files(): close everything, lowest descriptor first. */
  closeAll(): void {
    for (let fd = 0; fd < this.fds.length; fd++) this.close(fd);
  }

  /** Open descriptors as [fd, file]. */
  entries(): [number, File][] {
    const out: [number, File][] = [];
    this.fds.forEach((f, fd) => {
      if (f) out.push([fd, f]);
    });
    return out;
  }
}
