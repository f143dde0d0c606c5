import { granteesOf, type SlackAction, type SlackGrants } from '../../../api-contract/index.ts';
import { FleetcastError } from '../../../errors/index.ts';
import type { SlackGroupMembers } from './slack-group-members.ts';
import type { Principal } from './token-store.ts';

/** What a route asks of the service it touches. */
export interface ServiceUse {
  /** For refusals: "may not <action>". */
  action: string;
  /** The route changes something (anything but GET). */
  change: boolean;
  /** The Slack grant a relay needs for this change; absent: a relay may not make it for a person. */
  slackAction?: SlackAction | undefined;
}

/**
 * Per-service limits, checked on every route that touches a service: a token limited to
 * `services` touches only those, and a relay acting for a Slack user (`actAs`) changes only
 * what the `slack` section of the permissions file grants that user — the rule the bot
 * applies, checked again here so a stolen bot token cannot deploy what the person could not.
 */
export class ServiceAccess {
  constructor(
    private grants: SlackGrants | null,
    /** null: no Slack token on the coordinator, so group grants cannot be checked and count for nobody. */
    private readonly groups: Pick<SlackGroupMembers, 'members'> | null,
  ) {}

  /** A reload of the permissions file. */
  replaceGrants(grants: SlackGrants | null): void {
    this.grants = grants;
  }

  /** Throws FORBIDDEN, naming the service, unless the principal may. `service` null: the request named none (a list). */
  async check(principal: Principal, service: string | null, use: ServiceUse): Promise<void> {
    const token = principal.onBehalf?.token ?? principal.name;
    if (principal.services !== null) {
      const limited = `token "${token}" is limited to service${principal.services.length === 1 ? '' : 's'} ${principal.services.join(', ')}`;
      if (service === null) {
        throw new FleetcastError('FORBIDDEN', `${limited}: name one of them to ${use.action} (e.g. ?service=${principal.services[0]})`, { token, services: principal.services });
      }
      if (!principal.services.includes(service)) {
        throw new FleetcastError('FORBIDDEN', `${limited} and may not ${use.action} on service ${service}; ask an admin to add it to the token's "services" in the permissions file (FLEETCAST_PERMISSIONS)`, {
          token,
          service,
          services: principal.services,
        });
      }
    }
    if (principal.onBehalf && use.change) await this.checkRelay(principal, principal.onBehalf, service, use);
  }

  private async checkRelay(principal: Principal, relay: { token: string; id: string }, service: string | null, use: ServiceUse): Promise<void> {
    const details = { token: relay.token, actor: principal.name, service };
    const slackUser = /^slack:([UW][A-Z0-9]{2,30})$/.exec(relay.id)?.[1];
    if (service === null || use.slackAction === undefined || slackUser === undefined) {
      throw new FleetcastError(
        'FORBIDDEN',
        `token "${relay.token}" may not ${use.action} on behalf of ${relay.id}: a relay may only make the changes the permissions file's "slack" section grants Slack users (build, deploy, rollback, lock)`,
        details,
      );
    }
    const grantees = granteesOf(this.grants, use.slackAction, service);
    if (grantees.includes('*') || grantees.includes(slackUser)) return;
    for (const group of grantees.filter((grantee) => grantee.startsWith('S'))) {
      if (this.groups && (await this.groups.members(group)).has(slackUser)) return;
    }
    const groupsNote = this.groups === null && grantees.some((g) => g.startsWith('S')) ? ' (user group grants need FLEETCAST_SLACK_BOT_TOKEN on the coordinator to be checked)' : '';
    throw new FleetcastError(
      'FORBIDDEN',
      `${principal.name} (${relay.id}) may not ${use.action} on service ${service}: the permissions file grants slack.services.${service}.${use.slackAction} ` +
        `to ${grantees.length === 0 ? 'nobody' : grantees.join(', ')}${groupsNote}; token "${relay.token}" cannot act beyond the person's grants`,
      { ...details, slackAction: use.slackAction, grantees },
    );
  }
}
