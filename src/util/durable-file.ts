/** Making a new or renamed directory entry survive a power cut: shared by every file the terminal writes atomically. */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** fsync of the directory itself; some filesystems refuse it on a directory, and then there is no more to do. */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Best effort: the rename or link is atomic either way.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Temp file, fsync, rename over the old one, fsync the directory: a power cut leaves the old file or the new one,
 * never half of one. A failure removes the temp file and throws the file system's error.
 */
export function writeFileAtomically(path: string, text: string, options: { mode: number; tmp?: string }): void {
  const tmp = options.tmp ?? `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w', options.mode);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirectory(dirname(path));
}
