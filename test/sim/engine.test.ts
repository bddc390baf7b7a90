import { describe, expect, it } from 'vitest';
import {
  type Body,
  Engine,
  type Process,
  ProcessError,
  sleep,
  WaitQueue,
} from '../../src/sim/engine.js';
import { RngStreams } from '../../src/sim/rng.js';

/** A task that runs fn without blocking. */
function* call<R>(fn: () => R): Body<R> {
  yield* [];
  return fn();
}

function procErrorOf(f: () => unknown): ProcessError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ProcessError);
    return e as ProcessError;
  }
  throw new Error('expected a ProcessError');
}

describe('scheduling', () => {
  it('assigns pids from 1 and starts processes at now + delay', () => {
    const e = new Engine();
    const log: string[] = [];
    const body = (name: string) => call(() => log.push(`${name}@${e.now}`));
    const a = e.spawn('a', body('a'), { delay: 5 });
    const b = e.spawn('b', body('b'));
    expect([a.pid, b.pid]).toEqual([1, 2]);
    expect([a.name, a.state]).toEqual(['a', 'runnable']);
    e.run();
    expect(log).toEqual(['b@0', 'a@5']);
    expect(a.state).toBe('exited');
    expect(e.now).toBe(5);
  });

  it('runs same-time events FIFO in scheduling order', () => {
    const e = new Engine();
    const log: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      e.spawn(
        name,
        (function* (): Body {
          log.push(name);
          yield sleep(0);
          log.push(name.toUpperCase());
        })(),
      );
    }
    e.at(0, () => log.push('cb'));
    e.run();
    expect(log).toEqual(['a', 'b', 'c', 'cb', 'A', 'B', 'C']);
  });

  it('orders events by (time, seq) across processes and callbacks', () => {
    const e = new Engine();
    const log: string[] = [];
    const worker = (name: string, delays: number[]) =>
      function* (): Body {
        for (const d of delays) {
          yield sleep(d);
          log.push(`${name}@${e.now}`);
        }
      };
    e.spawn('p', worker('p', [10, 5, 20])());
    e.spawn('q', worker('q', [15, 15])());
    e.after(15, () => log.push(`cb@${e.now}`));
    e.at(30, () => log.push(`at@${e.now}`));
    e.run();
    // At t=15: the callback (scheduled first), then q (at t=0), then p (at t=10).
    expect(log).toEqual(['p@10', 'cb@15', 'q@15', 'p@15', 'at@30', 'q@30', 'p@35']);
    expect(e.eventsRun).toBe(9);
    expect(e.idle).toBe(true);
  });

  it('keeps heap order under many random events', () => {
    const e = new Engine();
    const rng = new RngStreams(11).stream('times');
    const fired: [number, number][] = [];
    for (let i = 0; i < 5000; i++) {
      const t = rng.int(0, 100);
      e.at(t, () => fired.push([e.now, i]));
    }
    e.run();
    const sorted = [...fired].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    expect(fired).toEqual(sorted);
    expect(fired).toHaveLength(5000);
  });

  it('is deterministic', () => {
    const trace = () => {
      const e = new Engine();
      const streams = new RngStreams(3);
      const q = new WaitQueue<number>();
      const log: string[] = [];
      for (let i = 0; i < 50; i++) {
        const rng = streams.stream(`p${i}`);
        e.spawn(
          `p${i}`,
          (function* (): Body {
            for (let k = 0; k < 20; k++) {
              if (rng.int(0, 4) === 0) log.push(`${i}:${yield q.wait()}@${e.now}`);
              else yield sleep(rng.int(0, 1000));
              if (rng.int(0, 3) === 0) q.wakeOne(e.now);
            }
          })(),
        );
      }
      e.run();
      return log.join(' ');
    };
    expect(trace()).toBe(trace());
  });

  it('validates times and delays', () => {
    const e = new Engine();
    const noop = () => {};
    e.spawn('x', (function* (): Body {})());
    e.run(10);
    expect(() => e.at(9, noop)).toThrow('invalid event time 9: expected an integer >= now (10)');
    expect(() => e.at(10.5, noop)).toThrow('invalid event time 10.5');
    expect(() => e.after(-1, noop)).toThrow(
      'invalid delay -1: expected a non-negative integer number of nanoseconds',
    );
    expect(() => e.spawn('y', (function* (): Body {})(), { delay: Number.NaN })).toThrow(
      'invalid spawn delay NaN',
    );
  });

  it('raises an invalid sleep inside the process', () => {
    const e = new Engine();
    let caught: unknown;
    e.spawn(
      'x',
      (function* (): Body {
        try {
          yield sleep(1.5);
        } catch (err) {
          caught = err;
        }
      })(),
    );
    e.run();
    expect(caught).toBeInstanceOf(RangeError);
    expect((caught as Error).message).toBe(
      'invalid sleep 1.5: expected a non-negative integer number of nanoseconds',
    );
  });
});

describe('run, step and time', () => {
  it('run(until) stops after events due at until and sets now', () => {
    const e = new Engine();
    const log: number[] = [];
    e.spawn(
      'ticker',
      (function* (): Body {
        for (;;) {
          yield sleep(10);
          log.push(e.now);
        }
      })(),
    );
    e.run(25);
    expect(log).toEqual([10, 20]);
    expect(e.now).toBe(25);
    expect(e.peekTime()).toBe(30);
    e.run(30);
    expect(log).toEqual([10, 20, 30]);
    expect(e.now).toBe(30);
    e.run(5); // never moves time backwards
    expect(e.now).toBe(30);
  });

  it('run() without a limit leaves now at the last event', () => {
    const e = new Engine();
    e.after(7, () => {});
    e.run();
    expect(e.now).toBe(7);
    expect(e.peekTime()).toBe(Infinity);
  });

  it('step() runs exactly one event', () => {
    const e = new Engine();
    const log: string[] = [];
    e.at(3, () => log.push('a'));
    e.at(3, () => log.push('b'));
    expect(e.idle).toBe(false);
    expect(e.step()).toBe(true);
    expect(log).toEqual(['a']);
    expect(e.now).toBe(3);
    expect(e.step()).toBe(true);
    expect(e.step()).toBe(false);
    expect(e.eventsRun).toBe(2);
    expect(e.idle).toBe(true);
  });
});

describe('frames', () => {
  it('runs nested generator frames and returns their values', () => {
    const e = new Engine();
    const log: string[] = [];
    function* leaf(x: number): Body<number> {
      yield sleep(5);
      return x * 2;
    }
    function* middle(): Body<number> {
      const a = (yield leaf(1)) as number;
      const b = (yield leaf(a)) as number;
      log.push(`middle@${e.now}`);
      return a + b;
    }
    const p = e.spawn(
      'p',
      (function* (): Body<string> {
        const v = yield middle();
        log.push(`top ${v}@${e.now}`);
        return 'ok';
      })(),
    );
    e.run();
    expect(log).toEqual(['middle@10', 'top 6@10']);
    expect(p.exitValue).toBe('ok');
    expect(p.state).toBe('exited');
  });

  it('runs a pushed frame immediately, at the same time', () => {
    const e = new Engine();
    const log: string[] = [];
    e.spawn(
      'a',
      (function* (): Body {
        yield call(() => log.push('a-child'));
        log.push('a-after');
      })(),
    );
    e.spawn(
      'b',
      call(() => log.push('b')),
    );
    e.run();
    expect(log).toEqual(['a-child', 'a-after', 'b']);
    expect(e.now).toBe(0);
  });

  it('propagates exceptions from a child frame to its parent', () => {
    const e = new Engine();
    let caught: unknown;
    const boom = new Error('boom');
    function* child(): Body {
      yield sleep(1);
      throw boom;
    }
    e.spawn(
      'p',
      (function* (): Body {
        try {
          yield child();
        } catch (err) {
          caught = err;
        }
      })(),
    );
    e.run();
    expect(caught).toBe(boom);
  });

  it('accepts plain iterators as frames', () => {
    const e = new Engine();
    let got: unknown;
    let n = 0;
    const iterator: Iterator<unknown, unknown, unknown> = {
      next: () => (n++ < 2 ? { done: false, value: sleep(4) } : { done: true, value: 'it' }),
    };
    e.spawn(
      'p',
      (function* (): Body {
        got = yield iterator;
      })(),
    );
    e.run();
    expect([got, e.now]).toEqual(['it', 8]);
  });
});

describe('onEffect', () => {
  it('resumes with a returned value', () => {
    const seen: [number, unknown][] = [];
    const e = new Engine({
      onEffect: (proc, effect) => {
        seen.push([proc.pid, effect]);
        return proc.pid * 100;
      },
    });
    let got: unknown;
    e.spawn(
      'p',
      (function* (): Body {
        got = yield { kind: 'getpid' };
      })(),
    );
    e.run();
    expect(got).toBe(100);
    expect(seen).toEqual([[1, { kind: 'getpid' }]]);
  });

  it('runs a returned generator as a frame that can sleep', () => {
    const e = new Engine({
      onEffect: (_proc, effect) =>
        (function* (): Body<string> {
          yield sleep((effect as { ns: number }).ns);
          return `slept ${e.now}`;
        })(),
    });
    let got: unknown;
    e.spawn(
      'p',
      (function* (): Body {
        yield sleep(1);
        got = yield { kind: 'syscall', ns: 100 };
      })(),
    );
    e.run();
    expect(got).toBe('slept 101');
    expect(e.now).toBe(101);
  });

  it('raises a handler exception inside the process', () => {
    const err = new Error('EINVAL');
    const e = new Engine({
      onEffect: () => {
        throw err;
      },
    });
    let caught: unknown;
    e.spawn(
      'p',
      (function* (): Body {
        try {
          yield 'x';
        } catch (ex) {
          caught = ex;
        }
      })(),
    );
    e.run();
    expect(caught).toBe(err);
  });

  it('throws on an unknown effect without a handler', () => {
    const e = new Engine();
    const p = e.spawn(
      'p',
      (function* (): Body {
        yield { kind: 'mmap' };
      })(),
    );
    const err = procErrorOf(() => e.run());
    expect(err.proc).toBe(p);
    expect(err.cause).toBeInstanceOf(TypeError);
    expect(err.message).toBe(
      'p[1]: unknown effect { kind: mmap } (the engine has no onEffect handler)',
    );
  });

  it('stops a process that the handler kills', () => {
    const log: string[] = [];
    const e = new Engine({
      onEffect: (proc) => {
        e.kill(proc);
        return 'ignored';
      },
    });
    const p = e.spawn(
      'p',
      (function* (): Body {
        try {
          yield 'oom';
          log.push('resumed');
        } finally {
          log.push('finally');
        }
      })(),
    );
    e.run();
    expect(log).toEqual(['finally']);
    expect([p.state, p.fatalSignal]).toEqual(['killed', true]);
  });
});

describe('join', () => {
  it('resumes with the exit value when the process exits', () => {
    const e = new Engine();
    const worker = e.spawn(
      'worker',
      (function* (): Body<number> {
        yield sleep(50);
        return 7;
      })(),
    );
    const got: string[] = [];
    for (const name of ['j1', 'j2']) {
      e.spawn(
        name,
        (function* (): Body {
          const v = yield e.join(worker);
          got.push(`${name}:${v}@${e.now}`);
        })(),
      );
    }
    e.run();
    expect(got).toEqual(['j1:7@50', 'j2:7@50']);
  });

  it('resumes immediately when the process is already done', () => {
    const e = new Engine();
    const done = e.spawn(
      'done',
      call(() => 'early'),
    );
    e.run();
    const log: string[] = [];
    e.spawn(
      'late',
      (function* (): Body {
        log.push(`${yield e.join(done)}`);
        log.push('late-continues');
      })(),
    );
    e.at(e.now, () => log.push('callback'));
    e.run();
    expect(log).toEqual(['early', 'late-continues', 'callback']);
  });

  it('resumes with undefined when the process is killed', () => {
    const e = new Engine();
    const victim = e.spawn(
      'victim',
      (function* (): Body {
        yield sleep(1000);
      })(),
    );
    let got: unknown = 'unset';
    e.spawn(
      'joiner',
      (function* (): Body {
        got = yield e.join(victim);
      })(),
    );
    e.after(10, () => e.kill(victim));
    e.run();
    expect(got).toBeUndefined();
    expect(e.now).toBe(10);
  });
});

describe('kill', () => {
  it('runs finally blocks innermost first and ignores the stale wakeup', () => {
    const e = new Engine();
    const log: string[] = [];
    function* inner(): Body {
      try {
        yield sleep(100);
        log.push('inner resumed');
      } finally {
        log.push(`inner finally@${e.now}`);
      }
    }
    const p = e.spawn(
      'p',
      (function* (): Body {
        try {
          yield inner();
          log.push('outer resumed');
        } finally {
          log.push('outer finally');
        }
      })(),
    );
    e.after(30, () => e.kill(p));
    e.run();
    expect(log).toEqual(['inner finally@30', 'outer finally']);
    expect([p.state, p.fatalSignal, p.exitValue]).toEqual(['killed', true, undefined]);
    expect(e.now).toBe(30); // the stale resume at t=100 was dropped
    expect(e.eventsRun).toBe(2);
    e.kill(p); // no-op
    expect(p.state).toBe('killed');
  });

  it('can kill a process that has not started', () => {
    const e = new Engine();
    let ran = false;
    const p = e.spawn(
      'p',
      (function* (): Body {
        ran = true;
        yield sleep(1);
      })(),
      { delay: 5 },
    );
    e.kill(p);
    expect(e.idle).toBe(true);
    e.run();
    expect([ran, p.state]).toEqual([false, 'killed']);
  });

  it('removes a blocked process from its wait queue', () => {
    const e = new Engine();
    const q = new WaitQueue<string>();
    const got: string[] = [];
    const waiter = (name: string) =>
      e.spawn(
        name,
        (function* (): Body {
          got.push(`${name}:${yield q.wait()}`);
        })(),
      );
    const a = waiter('a');
    waiter('b');
    e.run();
    expect(q.length).toBe(2);
    e.kill(a);
    expect(q.length).toBe(1);
    expect(q.wakeOne('x')).toBe(true);
    e.run();
    expect(got).toEqual(['b:x']);
  });

  it('ignores a wakeup that was already queued when the process was killed', () => {
    const e = new Engine();
    const q = new WaitQueue<number>();
    let resumed = false;
    const p = e.spawn(
      'p',
      (function* (): Body {
        yield q.wait();
        resumed = true;
      })(),
    );
    e.run();
    q.wakeAll(1);
    e.kill(p);
    e.run();
    expect(resumed).toBe(false);
    expect(p.state).toBe('killed');
  });

  it('defers a self-kill until the current step yields', () => {
    const e = new Engine();
    const log: string[] = [];
    const self: { p?: Process } = {};
    self.p = e.spawn(
      'p',
      (function* (): Body {
        try {
          e.kill(self.p!);
          log.push(`still running, fatalSignal=${self.p!.fatalSignal}`);
          yield sleep(1);
          log.push('resumed');
        } finally {
          log.push('finally');
        }
      })(),
    );
    e.run();
    expect(log).toEqual(['still running, fatalSignal=true', 'finally']);
    expect(self.p?.state).toBe('killed');
  });

  it('reports a finally block that yields or throws', () => {
    const e = new Engine();
    const p = e.spawn(
      'p',
      (function* (): Body {
        try {
          yield sleep(10);
        } finally {
          yield sleep(1);
        }
      })(),
    );
    e.run(5);
    const err = procErrorOf(() => e.kill(p));
    expect(err.message).toBe('p[1]: yielded from a finally block while being killed');
    expect(p.state).toBe('killed');

    const cleanupError = new Error('cleanup failed');
    const cleanup = () => {
      throw cleanupError;
    };
    const q = e.spawn(
      'q',
      (function* (): Body {
        try {
          yield sleep(10);
        } finally {
          cleanup();
        }
      })(),
    );
    e.run(6);
    expect(procErrorOf(() => e.kill(q)).cause).toBe(cleanupError);
    expect(q.state).toBe('killed');
  });
});

describe('WaitQueue', () => {
  it('wakes one waiter at a time in FIFO order, then all', () => {
    const e = new Engine();
    const q = new WaitQueue<string>();
    const got: string[] = [];
    for (const name of ['a', 'b', 'c', 'd']) {
      e.spawn(
        name,
        (function* (): Body {
          const v = yield q.wait();
          got.push(`${name}:${v}@${e.now}`);
        })(),
      );
    }
    e.run();
    expect(q.length).toBe(4);
    e.at(10, () => {
      expect(q.wakeOne('one')).toBe(true);
      got.push('woke');
    });
    e.at(20, () => expect(q.wakeAll('all')).toBe(3));
    e.run();
    expect(got).toEqual(['woke', 'a:one@10', 'b:all@20', 'c:all@20', 'd:all@20']);
    expect(q.wakeOne('none')).toBe(false);
    expect(q.wakeAll('none')).toBe(0);
  });

  it('queues a wake behind events already due at the same time', () => {
    const e = new Engine();
    const q = new WaitQueue<number>();
    const log: string[] = [];
    e.spawn(
      'waiter',
      (function* (): Body {
        yield q.wait();
        log.push('waiter');
      })(),
    );
    e.spawn(
      'waker',
      (function* (): Body {
        yield sleep(5);
        q.wakeAll(0);
        log.push('waker');
      })(),
    );
    e.run(1);
    e.at(5, () => log.push('callback')); // due after the waker's resume, before the wake
    e.run();
    expect(log).toEqual(['waker', 'callback', 'waiter']);
    expect(e.now).toBe(5);
  });
});

describe('onDispatch', () => {
  it('is told of every event before it runs: the process it resumes, or undefined', () => {
    const seen: string[] = [];
    const e = new Engine({
      onDispatch: (p) => seen.push(p ? `${p.name}@${e.now}` : `timer@${e.now}`),
    });
    e.spawn(
      'a',
      (function* () {
        yield sleep(5);
      })(),
    );
    e.after(3, () => {});
    e.run();
    expect(seen).toEqual(['a@0', 'timer@3', 'a@5']);
  });
});

describe('ProcessError', () => {
  it('carries the process and the original error', () => {
    const e = new Engine();
    const original = new RangeError('bad pfn');
    function* deep(): Body {
      yield sleep(3);
      throw original;
    }
    const p = e.spawn(
      'faulty',
      (function* (): Body {
        yield deep();
      })(),
    );
    const other = e.spawn(
      'other',
      (function* (): Body {
        yield sleep(10);
      })(),
    );
    const err = procErrorOf(() => e.run());
    expect(err.name).toBe('ProcessError');
    expect(err.proc).toBe(p);
    expect(err.cause).toBe(original);
    expect(err.message).toBe('faulty[1]: bad pfn');
    expect(p.state).toBe('killed');
    expect(e.now).toBe(3);
    e.run(); // the rest of the simulation can continue
    expect(other.state).toBe('exited');
  });

  it('wraps non-Error throws', () => {
    const e = new Engine();
    e.spawn(
      'p',
      (function* (): Body {
        yield sleep(1);
        throw 'oops';
      })(),
    );
    expect(e.step()).toBe(true);
    const err = procErrorOf(() => e.step());
    expect([err.message, err.cause]).toEqual(['p[1]: oops', 'oops']);
  });
});
