import { permissionsFileError, readPermissionsJson } from '../config/index.ts';
import { z } from 'zod';
import { servicePattern } from '../goalstate/index.ts';

/** What Slack users may be allowed to do, per service; reading (/status, /builds, help) is open to everyone. */
export const slackActions = ['build', 'deploy', 'rollback', 'lock'] as const;
export type SlackAction = (typeof slackActions)[number];

/** A grantee: a user id (U…, W… in Enterprise Grid), a user group id (S…), or "*" for everyone in the workspace. */
const grantee = z
  .string()
  .regex(/^(\*|[UWS][A-Z0-9]{2,30})$/, 'name a user id (U0123ABCD), a user group id (S0123ABCD) or "*" (everyone); ids are in the profile / group menu → Copy ID');

const serviceGrants = z.strictObject(Object.fromEntries(slackActions.map((action) => [action, z.array(grantee).optional()])) as Record<SlackAction, z.ZodOptional<z.ZodArray<typeof grantee>>>);

/**
 * The `slack` section of the permissions file (FLEETCAST_PERMISSIONS), beside the coordinator's
 * `tokens`, read by the bot (before it asks anything) and by the coordinator (which bounds a
 * relaying token by the same grants, so a stolen bot token cannot do what the person could not):
 *
 *     "slack": { "services": {
 *         "api": { "deploy": ["U0123ALICE", "S0APITEAM"], "build": ["*"] },
 *         "*":   { "rollback": ["S0ONCALL"], "lock": ["S0ONCALL"] } } }
 *
 * A service's grants are its own entry's and those of "*" together. `lock` covers unlock.
 * Misspelt keys are refused: a "deploys" that silently granted nothing would lock people out.
 */
export const slackSection = z.strictObject({
  services: z
    .record(z.string().refine((name) => name === '*' || servicePattern.test(name), 'keys are service names or "*"'), serviceGrants)
    .default({}),
});

const fileShape = z.looseObject({ slack: slackSection.optional() });

export type ServiceGrants = Partial<Record<SlackAction, string[]>>;

/** Who may do what from Slack, as read from the file. */
export interface SlackGrants {
  file: string;
  services: Record<string, ServiceGrants>;
}

/** The grantees of an action on a service: its own entry's and those of "*". The bot and the coordinator both judge by this. */
export function granteesOf(grants: SlackGrants | null, action: SlackAction, service: string): string[] {
  if (grants === null) return [];
  const own = grants.services[service]?.[action] ?? [];
  const all = grants.services['*']?.[action] ?? [];
  return [...new Set([...own, ...all])];
}

/** Reads and checks the file at start: a mistake stops the bot, naming the file and the problem. */
export function readSlackGrants(file: string): SlackGrants {
  const result = fileShape.safeParse(readPermissionsJson(file));
  if (!result.success) throw permissionsFileError(file, result.error.issues.map(describe).join('; '));
  return { file, services: result.data.slack?.services ?? {} };
}

function describe(issue: z.core.$ZodIssue): string {
  // A bad record key nests the key's own problem ("keys are service names…") inside the issue.
  const message = issue.code === 'invalid_key' ? issue.issues.map((inner) => inner.message).join(', ') : issue.message;
  return `${issue.path.join('.') || 'file'}: ${message}`;
}
