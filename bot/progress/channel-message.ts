import type { webApi } from '@slack/bolt';
import type { SlackMessage } from '../messages/blocks.ts';
import type { ProgressMessage } from './progress-message.ts';

/** A message in a channel the whole team sees: chat.postMessage once, chat.update after (no limit on updates). */
export class ChannelMessage implements ProgressMessage {
  private constructor(
    private readonly client: webApi.WebClient,
    readonly channel: string,
    private readonly ts: string,
  ) {}

  /** Posts the first version; fails (not_in_channel, channel_not_found…) if the bot may not post there. */
  static async post(client: webApi.WebClient, channel: string, message: SlackMessage): Promise<ChannelMessage> {
    const reply = await client.chat.postMessage({ channel, text: message.text, blocks: message.blocks, unfurl_links: false });
    return new ChannelMessage(client, reply.channel ?? channel, reply.ts!);
  }

  async show(message: SlackMessage): Promise<void> {
    await this.client.chat.update({ channel: this.channel, ts: this.ts, text: message.text, blocks: message.blocks });
  }
}
