import type { Dirent } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/**
 * Yields the files under `root` whose name (path relative to root, with "/") starts with
 * `prefix`, in the byte order GCS lists in. Sorting each folder by `name + "/"` for folders
 * gives that order for whole paths: "a-b" < "a/x" because "-" < "/". Folders named in `skip`
 * (at the top level) and symbolic links are left out; only folders that can hold a match are
 * entered, so listing one build does not walk the whole bucket.
 */
export async function* walkFiles(root: string, prefix: string, skip: ReadonlySet<string>): AsyncGenerator<{ name: string; file: string }> {
  // Start at the deepest folder the prefix names whole: "artifacts/api/b4" → "artifacts/api".
  const cut = prefix.lastIndexOf('/');
  const startName = cut >= 0 ? prefix.slice(0, cut) : '';
  yield* walk(root, startName, prefix, skip);
}

async function* walk(root: string, folder: string, prefix: string, skip: ReadonlySet<string>): AsyncGenerator<{ name: string; file: string }> {
  let entries: Dirent[];
  try {
    entries = await fsp.readdir(path.join(root, ...(folder ? folder.split('/') : [])), { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
    throw err;
  }
  const keyed = entries
    .filter((e) => (e.isDirectory() || e.isFile()) && !(folder === '' && skip.has(e.name)))
    .map((e) => ({ entry: e, key: e.isDirectory() ? e.name + '/' : e.name }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { entry } of keyed) {
    const name = folder ? `${folder}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      const asFolder = name + '/';
      if (asFolder.startsWith(prefix) || prefix.startsWith(asFolder)) yield* walk(root, name, prefix, skip);
    } else if (name.startsWith(prefix)) {
      yield { name, file: path.join(root, ...name.split('/')) };
    }
  }
}
