import { isMap, isNode, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { buildConfigSections, type BuildConfig } from '../queue/index.ts';
import { serviceSpec } from '../queue/services/index.ts';

/** The name of the file, at the root of the service's repository. */
export const fleetcastFileName = 'fleetcast.yml';

/** A larger file is refused before it is parsed: it is configuration, not data. */
export const maxFleetcastFileBytes = 64 * 1024;

/**
 * fleetcast.yml: what the repository says about building and running itself, read at the built
 * commit. Every key is optional; the service's settings fill in what it leaves out.
 *
 *     build: make release           # the build command
 *     artifact: out/api             # relative to the checkout
 *     run: ./api --port 8080        # on each machine
 *     health: http://127.0.0.1:8080/healthz
 *     waves: eu;us,ap               # or [[eu], [us, ap]]
 *     windows: [{ deny: "Fri 16:00 - Mon 08:00", zone: Europe/Paris }]
 *     gates: [{ url: https://status.example.com/ok }]
 */
const fileSchema = z.strictObject({
  version: z.literal(1, 'the only version is 1').optional(),
  build: serviceSpec.shape.buildCommand.optional(),
  artifact: serviceSpec.shape.artifactPath.optional(),
  // null (`run: ~`) says: nothing runs on the machines, whatever the service says.
  run: serviceSpec.shape.runCommand.unwrap().unwrap().nullable().optional(),
  health: serviceSpec.shape.healthUrl.unwrap().unwrap().nullable().optional(),
  waves: buildConfigSections.waves.optional(),
  windows: buildConfigSections.windows.optional(),
  gates: buildConfigSections.gates.optional(),
});

export type FleetcastFile = z.output<typeof fileSchema>;

/** A fleetcast.yml that cannot be used; the message names the line and is the build's failure reason. */
export class FleetcastFileError extends Error {
  override readonly name = 'FleetcastFileError';
}

/** Parses and validates the file's text; every problem is reported with its line. */
export function parseFleetcastFile(text: string): FleetcastFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const lineAt = (offset: number) => lines.linePos(offset).line;
  if (doc.errors.length > 0) {
    throw new FleetcastFileError(`${fleetcastFileName} is not valid YAML: ${doc.errors.map((e) => `line ${lineAt(e.pos[0])}: ${e.message.split('\n')[0]}`).join('; ')}`);
  }
  const value: unknown = doc.toJS() ?? {};
  const result = fileSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const where = keys.length > 0 ? [...issue.path, keys[0]!] : issue.path;
    const line = lineOf(doc, where as (string | number)[], keys.length > 0, lineAt);
    const field = issue.path.join('.');
    const message = keys.length > 0 && issue.path.length === 0 ? `unknown key ${keys.map((k) => `"${k}"`).join(', ')} (known: ${Object.keys(fileSchema.shape).join(', ')})` : issue.message;
    return `${line === null ? '' : `line ${line}: `}${field === '' ? '' : `${field}: `}${message}`;
  });
  throw new FleetcastFileError(`${fleetcastFileName} is invalid: ${problems.join('; ')}`);
}

/** The line of the node at `path` (of its key, for an unknown key), else of the nearest parent that exists. */
function lineOf(doc: Document, path: (string | number)[], keyOfLast: boolean, lineAt: (offset: number) => number): number | null {
  for (let length = path.length; length >= 0; length--) {
    const at = path.slice(0, length);
    if (keyOfLast && length === path.length && length > 0) {
      const parent = at.length === 1 ? doc.contents : doc.getIn(at.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === at[at.length - 1]);
        if (pair && isNode(pair.key) && pair.key.range) return lineAt(pair.key.range[0]);
      }
      continue;
    }
    const node = at.length === 0 ? doc.contents : doc.getIn(at, true);
    if (isNode(node) && node.range) return lineAt(node.range[0]);
  }
  return null;
}

/** The sections of the file stored with the build for the deploy features to use. */
export function storedSections(file: FleetcastFile): Omit<BuildConfig, 'source'> {
  return {
    ...(file.waves === undefined ? {} : { waves: file.waves }),
    ...(file.windows === undefined ? {} : { windows: file.windows }),
    ...(file.gates === undefined ? {} : { gates: file.gates }),
  };
}
