import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { loadConfig } from '../../config/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import { renderHubUsers, renderLeafUsers } from '../../ops/nats/users-config.ts';
import { NatsIdentityRegistry, natsRoles, type NatsIdentity, type NatsRole } from '../../trust/index.ts';
import { table } from '../format/table.ts';
import { printResult } from '../output.ts';

interface WhoOptions {
  region?: string;
  machine?: string;
  registry?: string;
  json?: boolean;
}

const afterHelp = `
Each coordinator, seeder and agent has its own NATS identity (an nkey): the NATS servers let
the coordinator write goals, a seeder only read its region's goal, and an agent read its
region's goal and write only the status keys of its own machine. The servers' user lists are
rendered from the registry (fleetcast creds render); \`fleetcast up\` reloads its servers
within a second of a change, elsewhere render and reload (docs/operations.md, "NATS identities").

Examples:
  fleetcast creds issue agent --region eu --machine eu-17 --out /etc/fleetcast/nats.nk
  fleetcast creds revoke agent --region eu --machine eu-17
  fleetcast creds render --server leaf --region eu --admin-password-file /etc/fleetcast/nats/admin.pass --out /etc/fleetcast/nats/users.conf
  fleetcast creds list --json`;

/** `fleetcast creds issue|revoke|list`: the fleet's NATS identities, in a registry on this machine. */
export function credsCommand(): Command {
  const command = new Command('creds').description("issue, revoke and list the NATS identities of coordinators, seeders and agents").addHelpText('after', afterHelp);
  command.addCommand(
    withRegistry(new Command('issue'))
      .description('issue a new NATS identity and write its creds file (mode 0600); a process uses it through FLEETCAST_NATS_CREDS')
      .addArgument(roleArgument())
      .option('--region <region>', 'the region whose leaf it connects to (seeders and agents)')
      .option('--machine <id>', "the agent's machine id, the seeder's name, or the coordinator's (default coordinator)")
      .option('--out <file>', 'where the creds file goes (default <registry>/creds/<name>.nk)')
      .action((role: NatsRole, options: WhoOptions & { out?: string }) => {
        const { identity, credsFile } = registry(options).issue({ role, ...who(options), ...(options.out ? { out: options.out } : {}) });
        printResult(options.json ?? false, { ...identity, credsFile }, () => `issued ${identity.name} (${identity.publicKey}); creds file ${credsFile}\nset FLEETCAST_NATS_CREDS=${credsFile} on that machine; the NATS servers accept it once they reload their users`);
      }),
  );
  command.addCommand(
    withRegistry(new Command('revoke'))
      .description('revoke a NATS identity: once the servers reload, its creds file no longer connects and its connections are closed; no other machine is touched')
      .addArgument(roleArgument())
      .option('--region <region>', 'its region (seeders and agents)')
      .option('--machine <id>', "the agent's machine id, the seeder's name, or the coordinator's (default coordinator)")
      .action((role: NatsRole, options: WhoOptions) => {
        const identity = registry(options).revoke({ role, ...who(options) });
        printResult(options.json ?? false, identity, () => `revoked ${identity.name} (${identity.publicKey}) at ${identity.revokedAt}`);
      }),
  );
  command.addCommand(
    withRegistry(new Command('render'))
      .description("write a NATS server's users file (FLEET_USERS, included by ops/nats/*.conf.template) from the registry; then reload that server (systemctl reload, or SIGHUP)")
      .addOption(new Option('--server <kind>', 'hub or leaf').choices(['hub', 'leaf']).makeOptionMandatory())
      .option('--region <region>', "the leaf's region (--server leaf)")
      .option('--leaf-password-file <file>', "the hub's leaf-link password (--server hub)")
      .option('--admin-password-file <file>', "the leaf's admin password (--server leaf)")
      .requiredOption('--out <file>', 'the users file to write (mode 0600, replaced whole)')
      .action((options: WhoOptions & { server: 'hub' | 'leaf'; leafPasswordFile?: string; adminPasswordFile?: string; out: string }) => {
        const identities = registry(options).active();
        const text =
          options.server === 'hub'
            ? renderHubUsers({ leafPassword: readPassword(options.leafPasswordFile, '--leaf-password-file'), identities })
            : renderLeafUsers({ region: required(options.region, '--region'), adminPassword: readPassword(options.adminPasswordFile, '--admin-password-file'), identities });
        const temp = `${options.out}.${process.pid}.tmp`;
        fs.writeFileSync(temp, text, { mode: 0o600 });
        fs.renameSync(temp, options.out);
        const users = identities.filter((i) => (options.server === 'hub' ? i.role === 'coordinator' : i.region === options.region && i.role !== 'coordinator')).length;
        printResult(options.json ?? false, { file: options.out, identities: users }, () => `wrote ${options.out}: ${users} identities; reload the server to apply it`);
      }),
  );
  command.addCommand(
    withRegistry(new Command('list'))
      .description('list the NATS identities issued, revoked ones included')
      .action((options: WhoOptions) => {
        const identities = registry(options).list();
        printResult(options.json ?? false, { identities }, () => listText(identities));
      }),
  );
  return command;
}

function roleArgument() {
  return new Command().createArgument('<role>', 'coordinator, seeder or agent').choices(natsRoles);
}

function withRegistry(command: Command): Command {
  return command
    .addOption(new Option('--registry <dir>', 'the identity registry (default <FLEETCAST_DATA_DIR>/nats-identities, where fleetcast up keeps it)'))
    .option('--json', 'print one JSON document');
}

function registry(options: WhoOptions): NatsIdentityRegistry {
  return new NatsIdentityRegistry(options.registry ?? path.join(loadConfig(['FLEETCAST_DATA_DIR']).FLEETCAST_DATA_DIR, 'nats-identities'));
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new FleetcastError('INVALID_INPUT', `${flag} is required here`, { flag });
  return value;
}

/** A password from a file (never from the command line, where ps shows it). */
function readPassword(file: string | undefined, flag: string): string {
  const password = fs.readFileSync(required(file, flag), 'utf8').trim();
  if (!password || /["\\\s]/.test(password)) throw new FleetcastError('INVALID_INPUT', `${file} must hold one password without quotes, backslashes or spaces`, { file });
  return password;
}

function who(options: WhoOptions): { region?: string; machine?: string } {
  return { ...(options.region ? { region: options.region } : {}), ...(options.machine ? { machine: options.machine } : {}) };
}

function listText(identities: NatsIdentity[]): string {
  if (identities.length === 0) return 'no NATS identities issued';
  return table(
    ['NAME', 'ROLE', 'REGION', 'MACHINE', 'PUBLIC KEY', 'ISSUED', 'REVOKED'],
    identities.map((i) => [i.name, i.role, i.region ?? '-', i.machine, i.publicKey, i.issuedAt, i.revokedAt ?? '-']),
  );
}
