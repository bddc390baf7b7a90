// The real-time pacer against a fake wall clock: simulated time follows it times the speed, and
// sync() re-anchors it where the engine is.
import { describe, expect, it } from 'vitest';
import { Realtime } from '../../src/sim/realtime.js';

function fixture(speed: number) {
  const clock = { wallMs: 1000, simNs: 5e9 };
  const pacer = new Realtime(
    () => clock.wallMs,
    () => clock.simNs,
    speed,
  );
  return { clock, pacer };
}

describe('Realtime', () => {
  it('makes simulated time due at the wall clock times the speed', () => {
    const { clock, pacer } = fixture(2);
    expect(pacer.due()).toBe(5e9);
    clock.wallMs += 250; // 250 ms of wall time at 2×: 500 ms simulated
    expect(pacer.due()).toBe(5.5e9);
    expect(pacer.wallAt(6e9)).toBe(1500); // 1 s simulated at 2×: 500 ms of wall time
  });

  it('runs slower than real time below 1×', () => {
    const { clock, pacer } = fixture(0.1);
    clock.wallMs += 1000;
    expect(pacer.due()).toBe(5.1e9);
    expect(pacer.wallAt(5.2e9)).toBe(3000);
  });

  it('re-anchors on sync(): a pause or a new speed does not make up for lost time', () => {
    const { clock, pacer } = fixture(1);
    clock.wallMs += 10_000; // paused for 10 s: the engine stayed at 5 s
    pacer.sync();
    expect(pacer.due()).toBe(5e9);
    pacer.speed = 10;
    clock.simNs = 7e9;
    pacer.sync();
    clock.wallMs += 100;
    expect(pacer.due()).toBe(8e9);
    expect(pacer.wallAt(9e9)).toBe(11_200);
  });
});
