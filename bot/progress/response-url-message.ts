import type { RespondFn } from '@slack/bolt';
import type { SlackMessage } from '../messages/blocks.ts';
import type { ProgressMessage } from './progress-message.ts';

/**
 * Slack accepts 5 messages per response_url within 30 minutes. One went to the preview; of
 * the rest, the last is kept for the final state, so intermediate updates stop early.
 */
const responseUrlUses = 4;

/**
 * The fallback where the bot may not post in the channel (a DM, a channel it was not invited
 * to): the ephemeral preview itself is replaced through its response_url, within Slack's budget.
 */
export class ResponseUrlMessage implements ProgressMessage {
  readonly channel = null;
  private used = 0;

  constructor(private readonly respond: RespondFn) {}

  async show(message: SlackMessage, final: boolean): Promise<void> {
    if (!final && this.used >= responseUrlUses - 1) return;
    if (this.used >= responseUrlUses) return;
    this.used += 1;
    await this.respond({ response_type: 'ephemeral', replace_original: true, text: message.text, blocks: message.blocks });
  }
}
