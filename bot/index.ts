// The Slack bot (issue 8): `fleetcast bot`.
export { runBot, type BotHandle, type BotOverrides } from './run.ts';
export { loadBotConfig, botSettings, slackMode, type BotConfig, type SlackMode } from './config.ts';
export { readSlackGrants, slackActions, type SlackAction, type SlackGrants } from './permissions/index.ts';
export { slackEventsPath } from './slack/receiver.ts';
