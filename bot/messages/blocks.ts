// Small Block Kit builders the message modules compose; Slack's own types keep them honest.
import type { types } from '@slack/bolt';

type KnownBlock = types.KnownBlock;
type Button = types.Button;

/** A message: blocks for people, `text` for notifications and clients that show no blocks. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Text from elsewhere (a failure reason, a commit subject) shown as-is, never as markup or mentions. */
export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function header(text: string): types.HeaderBlock {
  return { type: 'header', text: { type: 'plain_text', text: text.slice(0, 150), emoji: true } };
}

export function section(markdown: string): types.SectionBlock {
  // Slack refuses a section text over 3000 characters.
  return { type: 'section', text: { type: 'mrkdwn', text: markdown.length > 3000 ? `${markdown.slice(0, 2990)}…` : markdown } };
}

export function fields(items: string[]): types.SectionBlock {
  return { type: 'section', fields: items.slice(0, 10).map((text) => ({ type: 'mrkdwn', text })) };
}

export function context(markdown: string): types.ContextBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: markdown.slice(0, 3000) }] };
}

export function actions(blockId: string, buttons: Button[]): types.ActionsBlock {
  return { type: 'actions', block_id: blockId, elements: buttons };
}

export function button(actionId: string, text: string, value: string, style?: 'primary' | 'danger'): Button {
  return { type: 'button', action_id: actionId, text: { type: 'plain_text', text, emoji: true }, value, ...(style ? { style } : {}) };
}

/** `2 min ago`, `3 h ago`: how long ago an ISO time was, roughly. */
export function ago(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}

export function shortCommit(commit: string): string {
  return commit.slice(0, 10);
}
