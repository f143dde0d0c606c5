import type { Command } from 'commander';
import { streamEvents, type ApiClient } from '../../api-client/index.ts';
import { apiClient, buildRef, clientCommand, wantsJson } from '../client-command.ts';
import { printResult } from '../output.ts';

interface LogResult {
  id: string;
  text: string;
  nextOffset: number;
  /** The build is final and the log was read to its end. */
  complete: boolean;
}

/** What exists of the log now, chunk by chunk. */
async function readLog(client: ApiClient, id: string, write: (text: string) => void): Promise<LogResult> {
  let offset = 0;
  for (;;) {
    const { text, headers } = await client.text(`/v1/builds/${encodeURIComponent(id)}/log?offset=${offset}`);
    write(text);
    offset = Number(headers.get('x-fleetcast-log-offset') ?? offset + Buffer.byteLength(text));
    const complete = headers.get('x-fleetcast-log-complete') === 'true';
    if (complete || text === '') return { id, text: '', nextOffset: offset, complete };
  }
}

/** The log as it is written, from the /v1/events stream, until the build is final. */
async function followLog(client: ApiClient, id: string, write: (text: string) => void): Promise<LogResult> {
  let offset = 0;
  return streamEvents(client, {
    // After a reconnection the subscription resumes where the last chunk ended.
    subscription: () => ({ subscribe: 'log', id, offset }),
    onMessage: (message) => {
      if (message.type === 'log') {
        write(message.text);
        offset = message.nextOffset;
        return undefined;
      }
      if (message.type === 'log-end') return { id, text: '', nextOffset: message.nextOffset, complete: true };
      return undefined;
    },
  });
}

export function logsCommand(): Command {
  const command = clientCommand('logs', 'print the build log (needs a token with scope build or above; secrets the worker knows are masked)')
    .argument('<build>', 'build id, e.g. b42')
    .option('--follow', 'keep printing as the log grows, until the build is final')
    .action(async (given: string, options: { follow?: boolean }) => {
      const json = wantsJson(command);
      const client = apiClient(command);
      const id = buildRef(given);
      let collected = '';
      const write = json ? (text: string) => void (collected += text) : (text: string) => void process.stdout.write(text);
      const result = options.follow ? await followLog(client, id, write) : await readLog(client, id, write);
      if (json) printResult(true, { ...result, text: collected }, () => '');
    });
  return command;
}
