import type { SlackMessage } from '../messages/blocks.ts';

/** One message that is posted once and then replaced as things move. */
export interface ProgressMessage {
  /** Shows `message`; `final` is the last one (a budgeted message keeps a use for it). */
  show(message: SlackMessage, final: boolean): Promise<void>;
  /** The channel the message is in, when it is a channel message (announcements skip a channel already told). */
  readonly channel: string | null;
}
