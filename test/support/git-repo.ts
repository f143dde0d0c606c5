import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A real git repository of a sample service, made for one test and removed after. */
export class SampleRepo {
  private constructor(readonly dir: string) {}

  static create(): SampleRepo {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-repo-'));
    const repo = new SampleRepo(dir);
    repo.git('init', '--quiet', '--initial-branch=main');
    repo.git('config', 'user.email', 'dev@example.com');
    repo.git('config', 'user.name', 'Dev');
    return repo;
  }

  /** Writes the files and commits them; returns the full sha. */
  commit(files: Record<string, string>, message = 'change'): string {
    for (const [name, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(this.dir, name)), { recursive: true });
      fs.writeFileSync(path.join(this.dir, name), content, { mode: 0o755 });
    }
    this.git('add', '--all');
    this.git('commit', '--quiet', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, encoding: 'utf8' }).trim();
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
