// The bounded log of supervised services and of `fleetcast up`'s roles: rotation by size,
// files kept, lines kept whole, and the pump that never stops reading its pipe.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyToRotatingFile } from './log-writer.ts';
import { RotatingFile } from './rotating-file.ts';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-rotating-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const sizes = (file: string, keep: number) => RotatingFile.files(file, keep).map((f) => fs.statSync(f).size);
const read = (file: string) => fs.readFileSync(file, 'utf8');

describe('RotatingFile', () => {
  it('rotates at line breaks before a file would pass maxBytes, keeping `keep` files, newest last line in the current one', () => {
    const file = path.join(dir, 'logs', 'b1.log');
    const log = new RotatingFile({ file, maxBytes: 100, keep: 3 });
    for (let i = 0; i < 100; i++) log.write(Buffer.from(`line ${String(i).padStart(3, '0')} of the service\n`));
    log.close();
    expect(RotatingFile.files(file, 3)).toEqual([file, `${file}.1`, `${file}.2`]);
    expect(fs.existsSync(`${file}.3`)).toBe(false);
    for (const size of sizes(file, 3)) expect(size).toBeLessThanOrEqual(100);
    // Every file holds whole lines, in order across the files, the last line last.
    const text = read(`${file}.2`) + read(`${file}.1`) + read(file);
    const lines = text.trimEnd().split('\n');
    expect(lines.every((line) => /^line \d{3} of the service$/.test(line))).toBe(true);
    expect(lines.at(-1)).toBe('line 099 of the service');
    const numbers = lines.map((line) => Number(line.slice(5, 8)));
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));
  });

  it('cuts a line longer than a whole file, and splits a large chunk over as many files as it takes', () => {
    const file = path.join(dir, 'x.log');
    const log = new RotatingFile({ file, maxBytes: 10, keep: 4 });
    log.write(Buffer.from('a'.repeat(35)));
    log.close();
    expect(sizes(file, 4)).toEqual([5, 10, 10, 10]);
    expect(read(`${file}.3`) + read(`${file}.2`) + read(`${file}.1`) + read(file)).toBe('a'.repeat(35));
  });

  it('keeps a single file with keep 1, and starts afresh when it finds a file over the limit', () => {
    const file = path.join(dir, 'x.log');
    fs.writeFileSync(file, 'x'.repeat(50));
    const log = new RotatingFile({ file, maxBytes: 20, keep: 1 });
    log.write(Buffer.from('new\n'));
    log.write(Buffer.from('0123456789012345678\n'));
    log.close();
    expect(RotatingFile.files(file, 1)).toEqual([file]);
    expect(read(file)).toBe('0123456789012345678\n');
  });

  it('appends to the file a previous writer left, counting what it holds', () => {
    const file = path.join(dir, 'x.log');
    fs.writeFileSync(file, 'first run\n');
    const log = new RotatingFile({ file, maxBytes: 15, keep: 2 });
    log.write(Buffer.from('again\n'));
    log.close();
    expect(read(`${file}.1`)).toBe('first run\n');
    expect(read(file)).toBe('again\n');
  });
});

describe('copyToRotatingFile', () => {
  it('copies a stream to the end, bounded on disk', async () => {
    const file = path.join(dir, 'x.log');
    async function* output(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 1000; i++) yield Buffer.from(`${'y'.repeat(1000)}\n`);
      yield Buffer.from('THE END\n');
    }
    expect(await copyToRotatingFile(Readable.from(output()), { file, maxBytes: 64 * 1024, keep: 3 })).toEqual({ bytes: 1000 * 1001 + 8, droppedBytes: 0 });
    expect(sizes(file, 3).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3 * 64 * 1024);
    expect(read(file).endsWith('THE END\n')).toBe(true);
  });

  it('keeps reading when the log cannot be written, and says what was lost once it can', async () => {
    const file = path.join(dir, 'blocked', 'x.log');
    fs.writeFileSync(path.join(dir, 'blocked'), 'a file where the folder should be');
    let unblocked = false;
    async function* output(): AsyncGenerator<Buffer> {
      yield Buffer.from('lost 1\n');
      yield Buffer.from('lost 2\n');
      fs.rmSync(path.join(dir, 'blocked'));
      unblocked = true;
      yield Buffer.from('kept\n');
    }
    const result = await copyToRotatingFile(output(), { file, maxBytes: 1024, keep: 2 });
    expect(unblocked).toBe(true);
    expect(result).toEqual({ bytes: 5, droppedBytes: 0 });
    expect(read(file)).toBe('[fleetcast log-writer: 14 bytes of output were lost: the log could not be written]\nkept\n');
  });
});
