import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { tokenSha256 } from '../../api-contract/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import { printResult } from '../output.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8').trim();
}

function hashCommand(): Command {
  const command = new Command('hash')
    .description('print the sha256 of an API token for the permissions file ("sha256": "…"); reads the token from stdin, never from the command line (ps would show it)')
    .option('--new', 'generate a new random token (32 bytes, hex) and print it with its hash')
    .option('--json', 'print {"sha256": …} (with --new also "token") as one JSON document')
    .action(async (options: { new?: boolean; json?: boolean }) => {
      const token = options.new ? randomBytes(32).toString('hex') : await readStdin();
      if (token.length < 16) throw new FleetcastError('INVALID_INPUT', 'give the token on stdin (at least 16 characters), e.g.  printf %s "$TOKEN" | fleetcast token hash; or use --new');
      const sha256 = tokenSha256(token);
      printResult(options.json === true, options.new ? { token, sha256 } : { sha256 }, () =>
        options.new ? `token   ${token}   (give it to its holder; it is not stored anywhere)\nsha256  ${sha256}   (put this in the permissions file)` : sha256,
      );
    });
  return command;
}

export function tokenCommand(): Command {
  return new Command('token').description('API token helpers (hash)').addCommand(hashCommand());
}
