import type { DeploymentJson, LockJson, ServiceStatusJson } from '../../coordinator/api/index.ts';
import { table } from './table.ts';

export function deploymentLine(d: DeploymentJson): string {
  const verb = d.kind === 'rollback' ? 'rolled back' : 'deployed';
  const spooled = d.spooled ? ' (the database is down: the record is written when it is back)' : '';
  return `${d.id}: ${verb} ${d.service} to ${d.build} in ${d.regions.join(', ')} — ${d.status}${spooled}`;
}

export function lockLine(lock: LockJson): string {
  return `locked by ${lock.lockedBy} since ${lock.since} (${lock.reason})`;
}

export function statusText(status: ServiceStatusJson): string {
  const rows = status.regions.map((r) => [r.region, r.goal?.build ?? '-', r.goal?.deployment ?? '-', r.goal ? `${r.goal.kind} by ${r.goal.by}` : '-', r.goal?.at ?? '-']);
  const lock = status.lock ? lockLine(status.lock) : 'not locked';
  return `${status.service}: ${lock}\n${table(['REGION', 'GOAL', 'DEPLOYMENT', 'BY', 'AT'], rows)}`;
}
