import fs from 'node:fs';
import path from 'node:path';

export interface RotatingFileOptions {
  /** The file being written; full ones become `<file>.1`, `<file>.2`… (`.1` the newest). */
  file: string;
  /** Bytes of one file; a file is closed and a new one started before it would grow past this. */
  maxBytes: number;
  /** Files kept, the one being written included: at most `keep` × `maxBytes` bytes on disk. */
  keep: number;
}

/**
 * An append-only log bounded on disk: it writes to `file` until the next write would take it
 * past `maxBytes`, then renames the files one step down (`file` → `file.1` → `file.2`…),
 * deletes what falls past `keep`, and starts `file` again. Rotation happens at a line break when
 * the chunk has one in the part that fits, so lines stay whole; a line longer than a whole file
 * is cut. Writes are synchronous: what `write` accepted is in the file (the page cache) when it
 * returns, so nothing written is lost when the writer then exits or is killed.
 */
export class RotatingFile {
  private fd: number | undefined;
  private size = 0;

  constructor(private readonly options: RotatingFileOptions) {
    if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < 1) throw new RangeError(`maxBytes must be a whole number of bytes above 0, got ${options.maxBytes}`);
    if (!Number.isSafeInteger(options.keep) || options.keep < 1) throw new RangeError(`keep must be at least 1, got ${options.keep}`);
  }

  get file(): string {
    return this.options.file;
  }

  /** Appends `chunk`, rotating as often as needed. */
  write(chunk: Uint8Array): void {
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (data.length > 0) {
      this.open();
      const room = this.options.maxBytes - this.size;
      if (data.length <= room) {
        this.append(data);
        return;
      }
      // Fill this file up to the last line break that fits (or to the brim when none does,
      // or when the file is still empty and the line would never fit anyway), then rotate.
      const cut = data.subarray(0, room).lastIndexOf(0x0a) + 1;
      const take = cut > 0 ? cut : this.size === 0 ? room : 0;
      if (take > 0) this.append(data.subarray(0, take));
      data = data.subarray(take);
      this.rotate();
    }
  }

  /** Closes the file; a later write opens it again. */
  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }

  /** Every file of this log, the one being written first, then `.1`, `.2`… that exist. */
  static files(file: string, keep: number): string[] {
    return [file, ...Array.from({ length: keep - 1 }, (_, i) => `${file}.${i + 1}`)].filter((f) => fs.existsSync(f));
  }

  private open(): void {
    if (this.fd !== undefined) return;
    fs.mkdirSync(path.dirname(this.options.file), { recursive: true });
    this.fd = fs.openSync(this.options.file, 'a');
    this.size = fs.fstatSync(this.fd).size;
    // A log left fuller than allowed (the limit was lowered): start a fresh one.
    if (this.size >= this.options.maxBytes) this.rotate();
  }

  private append(data: Buffer): void {
    for (let written = 0; written < data.length; ) written += fs.writeSync(this.fd!, data, written);
    this.size += data.length;
  }

  private rotate(): void {
    this.close();
    const { file, keep } = this.options;
    fs.rmSync(keep > 1 ? `${file}.${keep - 1}` : file, { force: true });
    for (let n = keep - 2; n >= 1; n--) {
      if (fs.existsSync(`${file}.${n}`)) fs.renameSync(`${file}.${n}`, `${file}.${n + 1}`);
    }
    if (keep > 1 && fs.existsSync(file)) fs.renameSync(file, `${file}.1`);
    this.fd = fs.openSync(file, 'a');
    this.size = fs.fstatSync(this.fd).size;
  }
}
