import type { Database } from '../../entities/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import type { ServiceRegistry } from '../../queue/services/index.ts';
import type { Clock } from './clock.ts';
import * as sql from './delivery-sql.ts';
import { activeUntil, checkTimeZone, describeFreeze, endText, formatFreezeId, parseFreezeId, parseWeekly, type FreezeWindow } from './freeze-window.ts';

export interface FreezeRequest {
  /** null: every service. */
  service: string | null;
  reason: string;
  by: string;
  /** One-off: from (default now) until. */
  from?: Date | undefined;
  until?: Date | undefined;
  /** Weekly: `Fri 16:00-Mon 08:00` in `timeZone` (default UTC). */
  weekly?: string | undefined;
  timeZone?: string | undefined;
}

/** A freeze on now, and until when. */
export interface ActiveFreeze {
  window: FreezeWindow;
  until: Date;
}

/** The freeze windows: added, listed, removed (kept in SQL, marked), and which are on at a time. */
export class FreezeBook {
  constructor(
    private readonly db: Database,
    private readonly services: Pick<ServiceRegistry, 'get'>,
    private readonly clock: Clock,
  ) {}

  /** The time freezes are judged at (the coordinator's injected clock). */
  now(): Date {
    return this.clock();
  }

  async add(request: FreezeRequest): Promise<FreezeWindow> {
    if (request.service !== null) await this.services.get(request.service);
    const now = this.clock();
    let row: sql.FreezeInsert;
    const common = { service: request.service, reason: request.reason, createdBy: request.by, createdAt: now };
    if (request.weekly !== undefined) {
      if (request.from !== undefined || request.until !== undefined) throw new FleetcastError('INVALID_INPUT', 'a weekly window takes no --from/--until: give either --weekly "Fri 16:00-Mon 08:00" or --until TIME');
      parseWeekly(request.weekly);
      row = { ...common, kind: 'weekly', startsAt: null, endsAt: null, weekly: request.weekly.trim(), timeZone: checkTimeZone(request.timeZone ?? 'UTC') };
    } else {
      if (request.until === undefined) throw new FleetcastError('INVALID_INPUT', 'a freeze needs an end: --until TIME (ISO 8601) for a one-off freeze, or --weekly "Fri 16:00-Mon 08:00" for a recurring one');
      const from = request.from ?? now;
      if (request.until.getTime() <= from.getTime() || request.until.getTime() <= now.getTime()) {
        throw new FleetcastError('INVALID_INPUT', `the freeze would end (${request.until.toISOString()}) before it starts or before now (${now.toISOString()}); give a later --until`);
      }
      row = { ...common, kind: 'once', startsAt: from, endsAt: request.until, weekly: null, timeZone: null };
    }
    return { id: formatFreezeId(await sql.insertFreeze(this.db, row)), ...row };
  }

  /** Freezes not removed and not over: of `service` and the global ones, or every one. */
  list(service: string | null): Promise<FreezeWindow[]> {
    return sql.selectFreezes(this.db, service, this.clock());
  }

  async remove(ref: string, by: string): Promise<FreezeWindow> {
    const id = parseFreezeId(ref);
    const found = await sql.selectFreeze(this.db, id);
    if (!found || found.removedAt !== null || !(await sql.removeFreeze(this.db, id, by, this.clock()))) {
      throw new FleetcastError('NOT_FOUND', `no freeze ${formatFreezeId(id)} in effect (fleetcast freeze list shows them)`, { freeze: formatFreezeId(id) });
    }
    return found.window;
  }

  /** The freezes on for `service` now (the global ones included). */
  async active(service: string): Promise<ActiveFreeze[]> {
    const now = this.clock();
    const on: ActiveFreeze[] = [];
    for (const window of await this.list(service)) {
      const until = activeUntil(window, now);
      if (until) on.push({ window, until });
    }
    return on;
  }
}

/** FROZEN, naming each window on and when it ends. */
export function frozenError(service: string, active: ActiveFreeze[]): FleetcastError {
  const windows = active.map((a) => `${describeFreeze(a.window)}, on until ${endText(a.until)}`).join('; ');
  return new FleetcastError(
    'FROZEN',
    `deploys of ${service} are frozen: ${windows}. Nothing was deployed; rollbacks are still allowed. Wait for the window to end, remove it (fleetcast freeze remove ID, or fleetcast unfreeze SERVICE), or, as an admin, deploy anyway with --override-freeze REASON`,
    { service, freezes: active.map((a) => ({ id: a.window.id, reason: a.window.reason, until: a.until.toISOString() })) },
  );
}
