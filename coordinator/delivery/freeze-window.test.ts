import { describe, expect, it } from 'vitest';
import { activeUntil, parseWeekly, type FreezeWindow } from './freeze-window.ts';

const weekly = (spec: string, timeZone: string): FreezeWindow => ({
  id: 'f1',
  service: null,
  kind: 'weekly',
  startsAt: null,
  endsAt: null,
  weekly: spec,
  timeZone,
  reason: 'weekend',
  createdBy: 'alice',
  createdAt: new Date('2026-12-01T00:00:00Z'),
});

describe('freeze windows', () => {
  it('a weekly window over the weekend is judged on the wall clock of its time zone, and says when it ends', () => {
    const window = weekly('Fri 16:00-Mon 08:00', 'Europe/Paris');
    // 2026-12-11 is a Friday; Paris is UTC+1 in December.
    expect(activeUntil(window, new Date('2026-12-11T14:59:00Z'))).toBeNull();
    expect(activeUntil(window, new Date('2026-12-11T15:00:00Z'))).toEqual(new Date('2026-12-14T07:00:00Z'));
    expect(activeUntil(window, new Date('2026-12-13T12:00:00Z'))).toEqual(new Date('2026-12-14T07:00:00Z'));
    expect(activeUntil(window, new Date('2026-12-14T07:00:00Z'))).toBeNull();
    // The same window in New York (UTC-5) is on five hours later.
    expect(activeUntil(weekly('Fri 16:00-Mon 08:00', 'America/New_York'), new Date('2026-12-11T20:00:00Z'))).toBeNull();
    expect(activeUntil(weekly('Fri 16:00-Mon 08:00', 'America/New_York'), new Date('2026-12-11T21:00:00Z'))).toEqual(new Date('2026-12-14T13:00:00Z'));
  });

  it('a window inside one week (no wrap) and summer time', () => {
    const window = weekly('Tue 09:00-Tue 17:30', 'Europe/Paris');
    // 2026-07-07 is a Tuesday; Paris is UTC+2 in July.
    expect(activeUntil(window, new Date('2026-07-07T06:59:00Z'))).toBeNull();
    expect(activeUntil(window, new Date('2026-07-07T07:00:00Z'))).toEqual(new Date('2026-07-07T15:30:00Z'));
    expect(activeUntil(window, new Date('2026-07-07T15:30:00Z'))).toBeNull();
  });

  it('a one-off window is on from its start until its end', () => {
    const window: FreezeWindow = { ...weekly('', 'UTC'), kind: 'once', weekly: null, timeZone: null, startsAt: new Date('2026-12-24T00:00:00Z'), endsAt: new Date('2026-12-27T00:00:00Z') };
    expect(activeUntil(window, new Date('2026-12-23T23:59:59Z'))).toBeNull();
    expect(activeUntil(window, new Date('2026-12-25T00:00:00Z'))).toEqual(new Date('2026-12-27T00:00:00Z'));
    expect(activeUntil(window, new Date('2026-12-27T00:00:00Z'))).toBeNull();
  });

  it('refuses a malformed weekly window, naming the form it wants', () => {
    expect(() => parseWeekly('Friday 4pm to Monday')).toThrow(/"Fri 16:00-Mon 08:00"/);
    expect(() => parseWeekly('Fri 25:00-Mon 08:00')).toThrow(/not of the form/);
    expect(() => parseWeekly('Fri 16:00-Fri 16:00')).toThrow(/starts where it ends/);
    expect(parseWeekly('friday 16:00 - monday 8:00')).toEqual({ from: 5 * 1440 + 16 * 60, to: 1440 + 8 * 60 });
  });
});
