import type { DeliveryJson, FreezeJson } from '../../api-contract/index.ts';
import { fields } from './table.ts';

/** `f3 for every service, weekly Fri 16:00-Mon 08:00 Europe/Paris (on until …): weekend` */
export function freezeLine(freeze: FreezeJson): string {
  const until = freeze.endsAt?.startsWith('9999-') ? 'fleetcast unfreeze' : freeze.endsAt;
  const when = freeze.kind === 'weekly' ? `weekly ${freeze.weekly} ${freeze.timeZone}` : `from ${freeze.startsAt} until ${until}`;
  return `${freeze.id} for ${freeze.service ?? 'every service'}, ${when}${freeze.activeUntil ? ` (on until ${freeze.activeUntil})` : ''}: ${freeze.reason} (by ${freeze.createdBy})`;
}

export function deliveryText(delivery: DeliveryJson): string {
  const cd = delivery.continuousDeploy;
  const check = delivery.check.command !== null ? `command: ${delivery.check.command}` : delivery.check.url !== null ? `url: ${delivery.check.url}` : 'none';
  const last = delivery.checks[0];
  const lines = fields([
    ['continuous deploy', cd.enabled ? `on, branch ${cd.branch}` : 'off'],
    ['last', cd.build === null ? '-' : `${cd.build} ${cd.state}${cd.reason ? `: ${cd.reason}` : ''}`],
    ['pre-deploy check', check],
    ['last check', last ? `${last.ok ? 'passed' : 'FAILED'} for ${last.build}${last.deployment ? ` (${last.deployment})` : ''} at ${last.ranAt}` : '-'],
    ['freezes', delivery.freezes.length === 0 ? 'none' : delivery.freezes.map(freezeLine).join('\n' + ' '.repeat(19))],
  ]);
  return last && !last.ok ? `${lines}\n\nlast check output:\n${last.output.trimEnd()}` : lines;
}
