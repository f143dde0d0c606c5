import { permissionsFileError, readPermissionsJson } from '../../../config/index.ts';
import { z } from 'zod';
import { slackSection, tokenSha256, type SlackGrants } from '../../../api-contract/index.ts';
import { servicePattern } from '../../../goalstate/index.ts';
import { localAdminName } from './local-token.ts';
import { scopes } from './scopes.ts';
import type { ApiToken } from './token-store.ts';

const tokenEntry = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'names are 1–64 letters, digits, ".", "_", "@" or "-"'),
    token: z.string().min(16, 'tokens must be at least 16 characters (e.g. openssl rand -hex 32)').optional().meta({ description: 'the token itself (accepted with a warning: prefer sha256)' }),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'give the token\'s sha256 as 64 hex digits (fleetcast token hash)')
      .optional()
      .meta({ description: 'the sha256 of the token, hex: what `fleetcast token hash` prints' }),
    scopes: z.array(z.enum(scopes)).min(1, 'give at least one scope: read, build, deploy or admin'),
    services: z
      .array(z.string().regex(servicePattern, 'service names are lower-case letters, digits and dashes'))
      .min(1, 'name at least one service, or leave "services" out for all')
      .optional()
      .meta({ description: 'the services the token may touch; @defaultValue all' }),
    actAs: z.boolean().optional().meta({ description: 'may name the person it acts for in x-fleetcast-on-behalf-of (the Slack bot)' }),
  })
  .refine((entry) => (entry.token === undefined) !== (entry.sha256 === undefined), 'give exactly one of "sha256" (preferred) or "token"');

/**
 * The permissions file (FLEETCAST_PERMISSIONS):
 *
 *     { "tokens": [ { "name": "ci", "sha256": "<fleetcast token hash>", "scopes": ["build"], "services": ["api"] },
 *                   { "name": "slack-bot", "sha256": "…", "scopes": ["deploy"], "actAs": true } ],
 *       "slack": { … } }
 *
 * `tokens` are the coordinator's; `slack` (who may do what from Slack) the bot checks before it
 * asks anything, and the coordinator applies again to a relaying token, so a stolen bot token
 * cannot do what the person it names could not. Unknown keys inside a token entry are refused,
 * since a misspelt "scope" would otherwise silently grant nothing.
 */
export const permissionsFile = z.looseObject({
  tokens: z.array(tokenEntry).default([]),
  slack: slackSection.optional(),
});

/** What the coordinator takes from the file. */
export interface Permissions {
  tokens: ApiToken[];
  slack: SlackGrants;
  /** Names of tokens written in plaintext: accepted, with a warning at every load. */
  plaintext: string[];
}

/** Reads and checks the file, so a mistake stops the start (or is refused by a reload) instead of locking people out later. */
export function readPermissionsFile(file: string): Permissions {
  const fail = (problem: string, details: Record<string, unknown> = {}): never => {
    throw permissionsFileError(file, problem, details);
  };
  const result = permissionsFile.safeParse(readPermissionsJson(file));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'file'}: ${issue.message}`);
    fail(problems.join('; '), { problems });
  }
  const tokens = result.data!.tokens;
  const names = new Set<string>();
  const secrets = new Set<string>();
  for (const [index, token] of tokens.entries()) {
    if (token.name === localAdminName) fail(`tokens.${index}.name: "${localAdminName}" is reserved for the token the coordinator generates`);
    if (names.has(token.name)) fail(`tokens.${index}.name: two tokens are named "${token.name}"; give each its own name`);
    const secret = token.sha256?.toLowerCase() ?? tokenSha256(token.token!);
    if (secrets.has(secret)) fail(`tokens.${index}.${token.sha256 ? 'sha256' : 'token'}: "${token.name}" has the same secret as another token; give each holder its own`);
    names.add(token.name);
    secrets.add(secret);
  }
  return {
    tokens,
    slack: { file, services: result.data!.slack?.services ?? {} },
    plaintext: tokens.filter((token) => token.token !== undefined).map((token) => token.name),
  };
}
