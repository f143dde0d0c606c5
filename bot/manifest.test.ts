import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { commands } from './messages/help.ts';
import { slackEventsPath } from './slack/receiver.ts';

const manifest = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'ops', 'slack', 'manifest.yml'), 'utf8');

it('the Slack app manifest declares exactly the commands the bot answers, at its request path', () => {
  const declared = [...manifest.matchAll(/^\s+- command: \/([a-z]+)$/gm)].map((m) => m[1]);
  expect(declared.sort()).toEqual(Object.keys(commands).sort());
  const urls = [...manifest.matchAll(/(?:url|request_url): (\S+)/g)].map((m) => new URL(m[1]!).pathname);
  expect(new Set(urls)).toEqual(new Set([slackEventsPath]));
  for (const scope of ['commands', 'chat:write', 'chat:write.public', 'usergroups:read']) expect(manifest).toContain(`- ${scope}\n`);
  expect(manifest).toMatch(/interactivity:\s+#[^\n]*\n\s+is_enabled: true/);
});
