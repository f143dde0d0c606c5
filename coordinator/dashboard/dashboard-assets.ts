import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const webDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'web');

/**
 * The dashboard's script, bundled from web/ with esbuild (Preact + htm, no JSX build) the first
 * time a page asks for it and kept in memory: nothing generated is committed, `npm ci` needs no
 * extra step, and a coordinator nobody opens a dashboard on never bundles.
 */
export class DashboardAssets {
  private script: Promise<string> | null = null;

  /** The bundled app.js (a failed bundle is tried again on the next request). */
  app(): Promise<string> {
    this.script ??= bundle().catch((err: unknown) => {
      this.script = null;
      throw err;
    });
    return this.script;
  }

  /** The page and its stylesheet, read from the package. */
  file(name: 'index.html' | 'app.css'): Promise<string> {
    return fs.readFile(path.join(webDir, name), 'utf8');
  }
}

async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(webDir, 'main.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}
