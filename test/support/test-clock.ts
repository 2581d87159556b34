import { Clock } from '../../src/common/clock.js';

/** A clock the test moves by hand. */
export class TestClock extends Clock {
  private t: number;
  constructor(start = new Date('2026-11-23T12:00:00Z')) {
    super();
    this.t = start.getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(date: Date): void {
    this.t = date.getTime();
  }
}
