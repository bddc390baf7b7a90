// The frame gate keeps drawing under its share of a core and never holds back what the user is
// waiting for.
import { describe, expect, test } from 'vitest';
import { FrameGate, urgent } from '../../src/tui/frame-gate.js';
import type { LiveFrame } from '../../src/workload/protocol.js';
import { frame } from './helpers.js';

function fake(budget: number) {
  let now = 0;
  let busy = 0;
  const gate = new FrameGate(budget, { mark: () => (busy = 0), busy: () => busy }, () => now);
  return {
    gate,
    advance: (ms: number, busyMs = 0) => {
      now += ms;
      busy += busyMs;
    },
  };
}

describe('FrameGate', () => {
  test('the first frame and urgent ones go at once; no budget means every frame', () => {
    const { gate, advance } = fake(0.1);
    expect(gate.wait(false)).toBe(0);
    gate.drawn();
    advance(10, 10);
    expect(gate.wait(true)).toBe(0);
    expect(fake(0).gate.wait(false)).toBe(0);
  });

  test('a frame waits until the busy time since the last one is within the budget', () => {
    const { gate, advance } = fake(0.1);
    gate.drawn();
    advance(50, 10); // the draw took 10 ms: at 10 % the next may come 100 ms after the last
    expect(gate.wait(false)).toBeCloseTo(50);
    advance(50);
    expect(gate.wait(false)).toBe(0);
    gate.drawn();
    advance(60, 2); // cheaper frames bring the average down, and the gap with it
    expect(gate.wait(false)).toBeCloseTo(40);
    gate.drawn();
    advance(1, 0);
    expect(gate.wait(false)).toBeCloseTo(75); // 0.7 × 10 + 0.3 × 2 = 7.6 ms a frame: 76 ms apart
  });
});

test('urgent: pause, step, the end, a new failure, a new run', () => {
  const f = frame('upstream-failure');
  const running: LiveFrame = { ...f, paused: false };
  const later: LiveFrame = {
    ...running,
    snapshot: { ...f.snapshot, simTimeNs: f.snapshot.simTimeNs + 1e8 },
  };
  expect(urgent(undefined, running)).toBe(true);
  expect(urgent(running, later)).toBe(false);
  expect(urgent(running, { ...later, paused: true })).toBe(true);
  expect(urgent(running, { ...later, finished: true })).toBe(true);
  expect(urgent(running, { ...later, speed: 2 })).toBe(true);
  expect(urgent(running, { ...later, snapshot: { ...later.snapshot, failures_total: 3 } })).toBe(
    true,
  );
  expect(urgent(later, { ...running, snapshot: { ...f.snapshot, simTimeNs: 0 } })).toBe(true);
});
