/** Making a new or renamed directory entry survive a power cut: shared by every file the terminal writes atomically. */
import { closeSync, fsyncSync, openSync } from 'node:fs';

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
