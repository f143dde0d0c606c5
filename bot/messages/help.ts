import { section, context, type SlackMessage } from './blocks.ts';

/** Every command, its usage and what it does: for help and for usage errors. */
export const commands = {
  deploy: { usage: '/deploy BUILD [REGIONS]', does: 'preview a deploy of BUILD (b42) in the usual waves, to the regions named at once (eu,us), or in waves of your own (eu;us,ap, or eu:1%;eu;us,ap to start with 1 % of the machines of eu); Deploy or Cancel' },
  rollback: { usage: '/rollback SERVICE [BUILD]', does: 'back to the build deployed before (or BUILD), after one confirmation; locks the service' },
  build: { usage: '/build SERVICE COMMIT', does: 'queue a build of COMMIT; the result is announced when it ends' },
  builds: { usage: '/builds SERVICE', does: 'recent builds with their status and whether they can be deployed' },
  status: { usage: '/status SERVICE', does: 'what each region runs, how far a deploy is, and the lock' },
  lock: { usage: '/lock SERVICE REASON', does: 'stop deploys of SERVICE until it is unlocked' },
  unlock: { usage: '/unlock SERVICE', does: 'allow deploys again' },
  fleetcast: { usage: '/fleetcast help', does: 'this help' },
} as const;

export type CommandName = keyof typeof commands;

/** The help: every command, with the one asked about first. */
export function helpMessage(first?: CommandName): SlackMessage {
  const names = Object.keys(commands) as CommandName[];
  const ordered = first ? [first, ...names.filter((name) => name !== first)] : names;
  const lines = ordered.map((name) => `\`${commands[name].usage}\` — ${commands[name].does}`);
  return {
    text: `fleetcast commands: ${ordered.map((name) => commands[name].usage).join(', ')}`,
    blocks: [
      section(`*fleetcast* builds merged commits and ships them to every machine.\n${lines.join('\n')}`),
      context('Anyone can read (/status, /builds). Who may build, deploy, roll back or lock each service is set in the permissions file; a refusal says who may.'),
    ],
  };
}
