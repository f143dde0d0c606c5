import { Command } from 'commander';

// Until `fleetcast up` exists (issue: one command to run it all), the demo says what works.
const whatExists = `fleetcast demo — not the full story yet.

What works today (run each role in its own terminal, same FLEETCAST_DATA_DIR):
  - fleetcast coordinator   migrations, the build queue and its reaper, the HTTP API,
                            replication into every region of FLEETCAST_REGIONS
  - fleetcast worker        builds: git checkout, build command, log, upload, verify
  - fleetcast replicator    more copying capacity, outside the coordinator
  - fleetcast service add | build --wait | builds | show | logs --follow | cancel | replicate
  - fleetcast deploy | rollback | lock | unlock | status   (goal state on a NATS hub: start
                            a private hub and leaves with npx tsx ops/nats/start-cluster.ts)
  - fleetcast agent         the edge agent of one machine: watches its region's goals,
                            fetches builds from the regional bucket, verifies, installs,
                            switches, runs and health-checks them, rolls back from its cache
  - npm test                the full suite against real MariaDB, SQLite and a GCS fake
  - npm run bench           each benchmark against a same-run baseline

Coming next: deploy waves and fleet convergence, peer-to-peer fetching, the Slack bot,
then \`fleetcast up\` and this demo end to end.`;

export function demoCommand(): Command {
  return new Command('demo').description('run the fleetcast story end to end on this machine (placeholder for now)').action(() => {
    process.stdout.write(whatExists + '\n');
  });
}
