import { permissionsFileError, readPermissionsJson } from '../../../config/index.ts';
import { z } from 'zod';
import { localAdminName } from './local-token.ts';
import { scopes } from './scopes.ts';
import type { ApiToken } from './token-store.ts';

/**
 * The permissions file (FLEETCAST_PERMISSIONS):
 *
 *     { "tokens": [ { "name": "ci", "token": "<at least 16 characters>", "scopes": ["build"] },
 *                   { "name": "slack-bot", "token": "…", "scopes": ["deploy"], "actAs": true } ],
 *       "slack": { … } }
 *
 * The coordinator reads `tokens` only; `slack` (who may do what from Slack) is the bot's, which
 * checks it before it asks the coordinator anything (bot/permissions/). Unknown keys inside a
 * token entry are refused, since a misspelt "scope" would otherwise silently grant nothing.
 */
export const permissionsFile = z.looseObject({
  tokens: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'names are 1–64 letters, digits, ".", "_", "@" or "-"'),
        token: z.string().min(16, 'tokens must be at least 16 characters (e.g. openssl rand -hex 32)'),
        scopes: z.array(z.enum(scopes)).min(1, 'give at least one scope: read, build, deploy or admin'),
        actAs: z.boolean().optional().meta({ description: 'may name the person it acts for in x-fleetcast-on-behalf-of (the Slack bot)' }),
      }),
    )
    .default([]),
});

/** Reads and checks the file at start, so a mistake stops the coordinator instead of locking people out later. */
export function readPermissionsFile(file: string): ApiToken[] {
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
    if (secrets.has(token.token)) fail(`tokens.${index}.token: "${token.name}" has the same secret as another token; give each holder its own`);
    names.add(token.name);
    secrets.add(token.token);
  }
  return tokens;
}
