import { humanDuration } from '../../config/index.ts';
import type { BuildInfo } from '../fleet/fleet-json.ts';
import { mention } from '../slack/slack-user.ts';
import { ago, context, escape, section, type SlackMessage } from './blocks.ts';
import { commitLine } from './deploy-preview.ts';

const statusIcons: Record<BuildInfo['status'], string> = { QUEUED: ':hourglass_flowing_sand:', RUNNING: ':hammer_and_wrench:', SUCCEEDED: ':white_check_mark:', FAILED: ':x:' };

function deployability(build: BuildInfo): string {
  if (build.status !== 'SUCCEEDED') return '';
  if (build.deployable) return ' · deployable';
  return build.deployableReason ? ` · not deployable yet: ${escape(build.deployableReason)}` : ' · not deployable yet';
}

/** `/builds api`: newest first, each with status, commit and whether it can be deployed. */
export function buildListMessage(service: string, builds: BuildInfo[], now: number): SlackMessage {
  if (builds.length === 0) return { text: `no builds of ${service} yet`, blocks: [section(`No builds of *${service}* yet: \`/build ${service} COMMIT\` queues one.`)] };
  const lines = builds.map((b) => {
    const failure = b.status === 'FAILED' && b.failureReason ? ` — ${escape(b.failureReason.slice(0, 200))}` : '';
    return `${statusIcons[b.status]} *${b.id}* ${b.status} ${commitLine(b)} · ${ago(b.createdAt, now)}${deployability(b)}${failure}`;
  });
  return { text: `recent builds of ${service}: ${builds.map((b) => `${b.id} ${b.status}`).join(', ')}`, blocks: [section(`*Recent builds of ${service}*\n${lines.join('\n')}`)] };
}

export function buildQueuedMessage(build: BuildInfo, userId: string, repeated: boolean, announcedIn: string | null): SlackMessage {
  const where = announcedIn ? `the result is announced in <#${announcedIn}>` : 'you get the result here';
  const lead = repeated ? `${commitLine(build)} is already ${build.status} as *${build.id}*` : `${mention(userId)} queued *${build.id}* of *${build.service}*: ${commitLine(build)}`;
  return { text: `${build.id} of ${build.service} ${repeated ? 'already queued' : 'queued'}`, blocks: [section(`:hourglass_flowing_sand: ${lead}`), context(where)] };
}

/** When a build queued from Slack ends: announced, and told to the person who queued it. */
export function buildFinishedMessage(build: BuildInfo): SlackMessage {
  const took = build.durationMs !== null ? ` in ${humanDuration(build.durationMs)}` : '';
  const next =
    build.status === 'SUCCEEDED'
      ? build.deployable
        ? `\`/deploy ${build.id}\` to ship it`
        : `copies to the regions are under way: \`/deploy ${build.id}\` once they are done (\`/builds ${build.service}\` shows it)`
      : escape(build.failureReason ?? 'no reason recorded');
  return {
    text: `${build.id} of ${build.service} ${build.status}${took}`,
    blocks: [section(`${statusIcons[build.status]} *${build.id}* of *${build.service}* ${build.status}${took} — ${commitLine(build)}\n${next}`)],
  };
}
