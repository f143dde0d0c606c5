import { Command } from 'commander';

// Until `fleetcast up` exists (issue: one command to run it all), the demo says what works.
const whatExists = `fleetcast demo — not the full story yet.

What works today:
  - the durable build queue (MariaDB or embedded SQLite): FIFO claims, heartbeats,
    reaper, claim-token fencing, cancel — see coordinator/queue/
  - fleetcast coordinator   runs migrations and the reaper
  - fleetcast migrate       applies and lists database migrations
  - npm test                the full suite against real MariaDB and SQLite
  - npm run bench -- queue  claims/s against a bare SQL loop

Coming next: builder workers and blob stores, the HTTP API and client commands,
replication, goal state on NATS, peer-to-peer agents, the Slack bot, then
\`fleetcast up\` and this demo end to end.`;

export function demoCommand(): Command {
  return new Command('demo').description('run the fleetcast story end to end on this machine (placeholder for now)').action(() => {
    process.stdout.write(whatExists + '\n');
  });
}
