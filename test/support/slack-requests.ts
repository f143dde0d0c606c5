import { Agent } from 'undici';
import { createHmac } from 'node:crypto';

/** A request exactly as sent, to send again (a replay). */
export interface RawSlackRequest {
  body: string;
  headers: Record<string, string>;
}

export interface SlackReply {
  status: number;
  text: string;
  raw: RawSlackRequest;
}

export interface SlackUserFixture {
  id: string;
  name: string;
}

export interface SendOptions {
  /** Seconds since the epoch to sign with. @defaultValue now */
  timestamp?: number;
  /** Sign with another secret (a forged request). */
  secret?: string;
  /** More headers, e.g. x-slack-retry-num. */
  headers?: Record<string, string>;
  /** Slack's trigger id: the same in a redelivery of one request. @defaultValue a new one */
  triggerId?: string;
}

let triggers = 0;

/**
 * Requests to the bot's /slack/events as Slack sends them: form-encoded, signed
 * `v0=HMAC-SHA256(signing secret, "v0:<timestamp>:<body>")` with the timestamp beside it.
 */
export class SlackRequests {
  constructor(
    private readonly url: string,
    private readonly signingSecret: string,
    /** The CA of an https:// bot's certificate. */
    ca?: Buffer,
  ) {
    this.dispatcher = ca === undefined ? undefined : new Agent({ connect: { ca } });
  }

  private readonly dispatcher: Agent | undefined;

  /** A slash command: `/deploy b42 eu`. */
  command(user: SlackUserFixture, line: string, place: { channel: string; responseUrl: string }, options: SendOptions = {}): Promise<SlackReply> {
    const [command, ...words] = line.split(' ');
    const body = new URLSearchParams({
      token: 'verification-token-unused',
      team_id: 'T0FAKE',
      team_domain: 'fake',
      channel_id: place.channel,
      channel_name: 'deploys',
      user_id: user.id,
      user_name: user.name,
      command: command!,
      text: words.join(' '),
      api_app_id: 'A0FLEET',
      response_url: place.responseUrl,
      trigger_id: options.triggerId ?? newTrigger(),
    }).toString();
    return this.send(body, options);
  }

  /** A click on a button of a message the bot posted (block_actions). */
  click(user: SlackUserFixture, button: { action_id: string; value: string; block_id?: string }, place: { channel: string; responseUrl: string }, options: SendOptions = {}): Promise<SlackReply> {
    const payload = {
      type: 'block_actions',
      user: { id: user.id, username: user.name, name: user.name, team_id: 'T0FAKE' },
      api_app_id: 'A0FLEET',
      token: 'verification-token-unused',
      container: { type: 'message', message_ts: '1700000000.000001', channel_id: place.channel, is_ephemeral: true },
      trigger_id: options.triggerId ?? newTrigger(),
      team: { id: 'T0FAKE', domain: 'fake' },
      channel: { id: place.channel, name: 'deploys' },
      response_url: place.responseUrl,
      actions: [{ type: 'button', action_id: button.action_id, block_id: button.block_id ?? 'b', text: { type: 'plain_text', text: 'x' }, value: button.value, action_ts: '1700000000.1' }],
    };
    return this.send(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), options);
  }

  /** Sends a body signed as Slack signs it. */
  async send(body: string, options: SendOptions = {}): Promise<SlackReply> {
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    const signature = 'v0=' + createHmac('sha256', options.secret ?? this.signingSecret).update(`v0:${timestamp}:${body}`).digest('hex');
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signature,
      ...options.headers,
    };
    return this.sendRaw({ body, headers });
  }

  /** Sends a request again byte for byte. */
  async sendRaw(raw: RawSlackRequest): Promise<SlackReply> {
    const response = await fetch(this.url, { method: 'POST', headers: raw.headers, body: raw.body, ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}) });
    return { status: response.status, text: await response.text(), raw };
  }
}

function newTrigger(): string {
  return `${Date.now()}.${++triggers}.fake`;
}
