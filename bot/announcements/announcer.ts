import type { webApi } from '@slack/bolt';
import type { Logger } from '../../logging/index.ts';
import type { SlackMessage } from '../messages/blocks.ts';

/**
 * Posts finished builds and deploys in the channel configured for their service
 * (FLEETCAST_SLACK_CHANNELS: `api=C0123,*=C0456`). An announcement that cannot be posted is
 * logged, never an error for the person whose command caused it.
 */
export class Announcer {
  constructor(
    private readonly client: webApi.WebClient,
    private readonly channels: Readonly<Record<string, string>>,
    private readonly logger: Logger,
  ) {}

  channelFor(service: string): string | null {
    return this.channels[service] ?? this.channels['*'] ?? null;
  }

  /** Posts in the service's channel, unless there is none or it is `skip` (already told there). */
  async announce(service: string, message: SlackMessage, skip: string | null = null): Promise<void> {
    const channel = this.channelFor(service);
    if (channel === null || channel === skip) return;
    try {
      await this.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks, unfurl_links: false });
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      this.logger.warn({ err, service, channel, code }, code === 'not_in_channel' ? 'cannot announce: invite the bot to the channel' : 'cannot announce');
    }
  }
}
