import { describe, expect, it } from '@jest/globals';
import { Clock } from '../common/clock.js';
import { ShownOnce } from './shown-once.js';

/** A clock the test moves by hand. */
class TestClock extends Clock {
  private t = Date.parse('2026-11-23T12:00:00Z');
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

describe('ShownOnce', () => {
  it("hands a session's value out once, and to that session only", () => {
    const once = new ShownOnce<string>(new TestClock());
    once.put('session-a', 'ghe_secret');
    expect(once.take('session-b')).toBeUndefined();
    expect(once.take('session-a')).toBe('ghe_secret');
    expect(once.take('session-a')).toBeUndefined(); // a reload
  });

  it('forgets a value no page fetched within a minute', () => {
    const clock = new TestClock();
    const once = new ShownOnce<string>(clock);
    once.put('session-a', 'ghe_old');
    clock.advance(60_001);
    expect(once.take('session-a')).toBeUndefined();
  });

  it('keeps at most 1,000 sessions waiting, dropping the oldest first', () => {
    const once = new ShownOnce<number>(new TestClock());
    for (let i = 0; i <= 1000; i++) once.put(`session-${i}`, i);
    expect(once.take('session-0')).toBeUndefined();
    expect(once.take('session-1')).toBe(1);
    expect(once.take('session-1000')).toBe(1000);
  });
});
