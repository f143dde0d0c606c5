import type { RespondFn } from '@slack/bolt';
import type { SlackMessage } from '../messages/blocks.ts';

/** Only the person who asked sees it: previews, read-only answers, refusals. */
export function replyToAsker(respond: RespondFn, message: SlackMessage, options: { replace?: boolean } = {}): Promise<unknown> {
  return respond({ response_type: 'ephemeral', replace_original: options.replace ?? false, text: message.text, blocks: message.blocks });
}

/** Everyone in the channel sees it: locks, unlocks. */
export function replyInChannel(respond: RespondFn, message: SlackMessage): Promise<unknown> {
  return respond({ response_type: 'in_channel', text: message.text, blocks: message.blocks });
}
