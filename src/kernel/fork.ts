// Task life cycle: creation, fork() and exit (kernel-model.md §4.6 notes on fork, §5.3 and C28 on exit).
import { FdTable, File } from './fs/file.js';
import type { Kernel } from './kernel.js';
import { gupTestRelease } from './mm/gup_test.js';
import { Mm } from './mm/mmap.js';
import { type Cred, Task, UserStruct } from './task.js';

function userOf(k: Kernel, uid: number): UserStruct {
  let u = k.users.get(uid);
  if (!u) {
    u = new UserStruct(uid);
    k.users.set(uid, u);
  }
  return u;
}

/** A new task with an empty address space and only stdin, stdout and stderr open. */
export function spawnTask(k: Kernel, comm: string, cred: Cred): Task {
  const files = new FdTable();
  for (let fd = 0; fd < 3; fd++) files.install(new File('regular', () => {})); // stdin, stdout, stderr
  const t = new Task(k.nextPid++, comm, { ...cred }, userOf(k, cred.uid), new Mm(k), files);
  k.tasks.set(t.pid, t);
  return t;
}

/**
 * copy_process(): the child shares every open file and gets a copy of the address space with
 * locked_vm = pinned_vm = 0; user->locked_vm is per UID and so shared. Returns undefined when
 * the copy ran out of memory (-ENOMEM).
 */
export function forkTask(k: Kernel, parent: Task, comm = parent.comm): Task | undefined {
  const mm = new Mm(k);
  const child = new Task(
    k.nextPid++,
    comm,
    { ...parent.cred },
    parent.user,
    mm,
    parent.files.fork(),
  );
  child.cpu = parent.cpu; // copy_process() copies the affinity mask
  if (!parent.mm.fork(mm, `anon:${child.pid}`)) {
    child.files.closeAll();
    mm.exit();
    return undefined;
  }
  k.tasks.set(child.pid, child);
  return child;
}

/** do_exit(): close every file (exit_files), then drop the address space (exit_mm). */
export function exitTask(k: Kernel, task: Task): void {
  if (task.state === 'exited') return;
  task.state = 'exited';
  const pid = k.currentPid;
  k.currentPid = task.pid;
  task.files.closeAll();
  gupTestRelease(k, task); // the gup_test file is one of the files exit_files() closes
  task.mm.exit();
  k.currentPid = pid;
}
