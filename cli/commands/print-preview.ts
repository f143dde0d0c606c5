import type { Command } from 'commander';
import type { DeployPreviewJson } from '../../api-contract/index.ts';
import type { ApiClient } from '../../api-client/index.ts';
import { errorCodes } from '../../errors/index.ts';
import { wantsJson } from '../client-command.ts';
import { previewText } from '../format/preview-text.ts';
import { printResult } from '../output.ts';

/**
 * `deploy --dry-run` / `rollback --dry-run`: asks the coordinator (the only judge of refusals)
 * what the request would do and prints it. The exit code is the one the real request would end
 * with: 0 when it would go ahead, else its first refusal's (3 for NOT_DEPLOYABLE or LOCKED).
 */
export async function printPreview(command: Command, client: ApiClient, url: string, body: object): Promise<void> {
  const { body: preview } = await client.json<DeployPreviewJson>('POST', url, body);
  printResult(wantsJson(command), preview, () => previewText(preview));
  const refusal = preview.refusals[0];
  if (refusal) process.exitCode = errorCodes[refusal.error.code].exitCode;
}
