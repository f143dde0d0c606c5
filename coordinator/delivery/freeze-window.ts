import { FleetcastError } from '../../errors/index.ts';

/** A freeze: deploys of its service (every service when null) are refused while it is on. Rollbacks never are. */
export interface FreezeWindow {
  /** `f12`. */
  id: string;
  service: string | null;
  kind: 'once' | 'weekly';
  /** One-off: from when to when. */
  startsAt: Date | null;
  endsAt: Date | null;
  /** Weekly: `Fri 16:00-Mon 08:00`, in `timeZone` (an IANA name, e.g. Europe/Paris). */
  weekly: string | null;
  timeZone: string | null;
  reason: string;
  createdBy: string;
  createdAt: Date;
}

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const minutesPerWeek = 7 * 24 * 60;
const weeklyPattern = /^\s*([A-Za-z]{3})[a-z]*\s+(\d{1,2}):(\d{2})\s*-\s*([A-Za-z]{3})[a-z]*\s+(\d{1,2}):(\d{2})\s*$/;

/** A weekly window as minutes since Sunday 00:00 local time: [from, to), wrapping over the week's end when from > to. */
export interface WeeklySpan {
  from: number;
  to: number;
}

export function parseWeekly(text: string): WeeklySpan {
  const match = weeklyPattern.exec(text);
  const at = (day: string, hour: string, minute: string): number => {
    const index = days.findIndex((d) => d.toLowerCase() === day.toLowerCase());
    if (index < 0 || Number(hour) > 23 || Number(minute) > 59) throw badWeekly(text);
    return index * 1440 + Number(hour) * 60 + Number(minute);
  };
  if (!match) throw badWeekly(text);
  const span = { from: at(match[1]!, match[2]!, match[3]!), to: at(match[4]!, match[5]!, match[6]!) };
  if (span.from === span.to) throw new FleetcastError('INVALID_INPUT', `weekly window "${text}" starts where it ends; give a start and an end that differ`);
  return span;
}

function badWeekly(text: string): FleetcastError {
  return new FleetcastError('INVALID_INPUT', `weekly window "${text}" is not of the form "Fri 16:00-Mon 08:00" (day names ${days.join(' ')}, 24-hour times)`, { weekly: text });
}

/** Refuses a time zone Intl does not know, naming it. */
export function checkTimeZone(timeZone: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new FleetcastError('INVALID_INPUT', `unknown time zone "${timeZone}": use an IANA name such as Europe/Paris or UTC`, { timeZone });
  }
  return timeZone;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** Minutes since Sunday 00:00 of `at` on the wall clock of `timeZone`. */
export function minuteOfWeek(at: Date, timeZone: string): number {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((part) => [part.type, part.value]));
  return days.indexOf(parts.weekday as (typeof days)[number]) * 1440 + Number(parts.hour) * 60 + Number(parts.minute);
}

/** When the window is on at `at`, when it ends (to the minute); null when it is off. */
export function activeUntil(window: FreezeWindow, at: Date): Date | null {
  if (window.kind === 'once') {
    const started = window.startsAt === null || window.startsAt.getTime() <= at.getTime();
    return started && window.endsAt !== null && at.getTime() < window.endsAt.getTime() ? window.endsAt : null;
  }
  const span = parseWeekly(window.weekly ?? '');
  const now = minuteOfWeek(at, window.timeZone ?? 'UTC');
  const on = span.from < span.to ? now >= span.from && now < span.to : now >= span.from || now < span.to;
  if (!on) return null;
  // Minutes of wall clock to the end; a daylight-saving change inside the window moves the real end by its hour.
  const left = (span.to - now + minutesPerWeek) % minutesPerWeek;
  const end = new Date(at.getTime() + left * 60_000);
  end.setUTCSeconds(0, 0);
  return end;
}

/** `f3 (every service, "Fri 16:00-Mon 08:00" Europe/Paris): weekend, set by alice` */
/** `fleetcast freeze SERVICE` without --until ends in the year 9999: until someone unfreezes it. */
export function endText(end: Date | null | undefined): string {
  return end && end.getUTCFullYear() >= 9999 ? 'fleetcast unfreeze' : (end?.toISOString() ?? 'unknown');
}

export function describeFreeze(window: FreezeWindow): string {
  const scope = window.service ?? 'every service';
  const when = window.kind === 'weekly' ? `weekly ${window.weekly} ${window.timeZone}` : `${window.startsAt?.toISOString() ?? 'now'} to ${endText(window.endsAt)}`;
  return `${window.id} (${scope}, ${when}): ${window.reason}, set by ${window.createdBy}`;
}

export function formatFreezeId(id: number): string {
  return `f${id}`;
}

export function parseFreezeId(text: string): number {
  const match = /^f?([1-9]\d{0,15})$/.exec(text.trim());
  if (!match) throw new FleetcastError('INVALID_INPUT', `"${text}" is not a freeze id; freeze ids look like f3 (fleetcast freeze list)`, { freeze: text });
  return Number(match[1]);
}
