import { FleetcastError } from '../../errors/index.ts';
import { mention, type SlackUser } from '../slack/slack-user.ts';
import { granteesOf, type SlackAction, type SlackGrants } from '../../api-contract/index.ts';
import type { MembersLookup } from './usergroup-members.ts';

const verbs: Record<SlackAction, string> = { build: 'queue builds of', deploy: 'deploy', rollback: 'roll back', lock: 'lock or unlock' };

const example = '{"slack": {"services": {"api": {"deploy": ["U0123ABCD"], "rollback": ["S0ONCALL"]}}}}';

/**
 * Who may change what from Slack: the `slack` section of the permissions file. Without a file
 * nobody may (read-only commands answer everyone); each refusal is FORBIDDEN and says who can,
 * or how an admin grants it.
 */
export class SlackPermissions {
  constructor(
    /** null: no FLEETCAST_PERMISSIONS — every change from Slack is refused. */
    private readonly grants: SlackGrants | null,
    private readonly groups: { lookup(group: string): Promise<MembersLookup> },
  ) {}

  /** The grantees of an action on a service: its own entry's and those of "*". */
  grantees(action: SlackAction, service: string): string[] {
    return granteesOf(this.grants, action, service);
  }

  /** Resolves if the user may; throws FORBIDDEN saying who may otherwise. */
  async check(user: SlackUser, action: SlackAction, service: string): Promise<void> {
    const grantees = this.grantees(action, service);
    if (grantees.includes('*') || grantees.includes(user.id)) return;
    const failures: string[] = [];
    for (const group of grantees.filter((g) => g.startsWith('S'))) {
      const { members, error } = await this.groups.lookup(group);
      if (members.has(user.id)) return;
      if (error !== null) failures.push(`could not read the members of ${groupMention(group)} (${error}; the bot needs the usergroups:read scope)`);
    }
    throw this.refusal(user, action, service, grantees, failures);
  }

  private refusal(user: SlackUser, action: SlackAction, service: string, grantees: string[], failures: string[]): FleetcastError {
    const details = { action, service, user: user.id, grantees };
    const verb = `${verbs[action]} ${service}`;
    if (this.grants === null) {
      return new FleetcastError(
        'FORBIDDEN',
        `Nobody may ${verb} from Slack: the bot has no permissions file. An admin turns changes on by pointing FLEETCAST_PERMISSIONS of \`fleetcast bot\` ` +
          `at a JSON file with a "slack" section, e.g. ${example} (README, "Permissions file"). /status and /builds work for everyone.`,
        details,
      );
    }
    const where = `slack.services.${service}.${action} (or slack.services["*"].${action}) in ${this.grants.file}`;
    if (grantees.length === 0) {
      return new FleetcastError('FORBIDDEN', `Nobody may ${verb} from Slack: an admin grants it by adding user or user group ids to ${where}, then restarts the bot.`, details);
    }
    const who = grantees.map((g) => (g.startsWith('S') ? `members of ${groupMention(g)}` : mention(g))).join(', ');
    const lookups = failures.length > 0 ? ` (${failures.join('; ')})` : '';
    return new FleetcastError(
      'FORBIDDEN',
      `${mention(user.id)} may not ${verb}: that is granted to ${who}${lookups}. Ask one of them, or ask an admin to add you to ${where}.`,
      details,
    );
  }
}

function groupMention(group: string): string {
  return `<!subteam^${group}>`;
}
