/**
 * File permissions of what the terminal keeps on disk. The journal holds amounts, masked card numbers and the
 * sealed store-and-forward queue: no other account on the device may read or change it. Files the terminal creates
 * are private (0600, the data directory 0700); a start on a data directory or journal that group or others can
 * read or write is refused, like a key file with loose permissions (src/durability/card-vault.ts).
 */
import { closeSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';

/** "group and others", "group" or "others": who besides the owner can reach the file. */
export function whoElse(mode: number): string {
  const group = (mode & 0o070) !== 0;
  const others = (mode & 0o007) !== 0;
  return group && others ? 'group and others' : group ? 'group' : 'others';
}

/** E.g. "readable and writable by group": what group and others may do with a file of this mode. */
export function describeAccess(mode: number): string {
  const how = [
    (mode & 0o044) !== 0 && 'readable',
    (mode & 0o022) !== 0 && 'writable',
    (mode & 0o011) !== 0 && 'executable',
  ].filter(Boolean);
  return `${how.join(' and ')} by ${whoElse(mode)}`;
}

/** The permission bits as chmod takes them, e.g. "0644". */
export function octalMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

export class FilePermissionError extends Error {
  override readonly name = 'FilePermissionError';

  constructor(
    message: string,
    /** Every path refused, in the order named in the message. */
    readonly paths: readonly string[],
  ) {
    super(message);
  }
}

/** SQLite's companions of a WAL database; they hold recent commits, so they are as sensitive as the file itself. */
const COMPANIONS = ['-wal', '-shm'] as const;

function statIfPresent(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Refuses (FilePermissionError, one line naming every path, its mode and the chmod that fixes it) a data directory
 * that group or others can read or write, or a journal, -wal or -shm file they can reach at all. Search permission
 * alone on the directory is allowed: it lists nothing and the files inside keep their own modes.
 */
export function checkDataPermissions(dataDir: string, journalPath: string): void {
  const dir = resolve(dataDir);
  const journal = resolve(journalPath);
  const problems: string[] = [];
  const dirFix: string[] = [];
  const fileFix: string[] = [];

  const dirStat = statSync(dir);
  if (!dirStat.isDirectory()) throw new FilePermissionError(`data directory ${dir} is not a directory`, [dir]);
  const dirAccess = dirStat.mode & 0o7766;
  if ((dirAccess & 0o066) !== 0) {
    problems.push(`data directory ${dir} is ${describeAccess(dirAccess)} (mode ${octalMode(dirStat.mode)})`);
    dirFix.push(dir);
  }
  for (const path of [journal, ...COMPANIONS.map((suffix) => `${journal}${suffix}`)]) {
    const stat = statIfPresent(path);
    if (!stat) continue;
    if (!stat.isFile()) throw new FilePermissionError(`journal file ${path} is not a regular file`, [path]);
    if ((stat.mode & 0o077) !== 0) {
      problems.push(`journal file ${path} is ${describeAccess(stat.mode)} (mode ${octalMode(stat.mode)})`);
      fileFix.push(path);
    }
  }
  if (problems.length === 0) return;
  const fixes = [
    dirFix.length > 0 && `chmod 700 ${dirFix.join(' ')}`,
    fileFix.length > 0 && `chmod 600 ${fileFix.join(' ')}`,
  ].filter(Boolean);
  throw new FilePermissionError(`${problems.join('; ')}: ${fixes.join(' && ')}`, [...dirFix, ...fileFix]);
}

/**
 * The start path: every file the process creates from now on is private (umask 077, as the systemd unit sets it),
 * a missing data directory is created 0700 and a missing journal 0600 (SQLite gives -wal and -shm the journal's
 * mode), then the permissions are checked. Throws FilePermissionError when they are too loose.
 */
export function secureDataDir(dataDir: string, journalPath: string): void {
  // umask only ever removes bits: keep whatever stricter mask the service manager set.
  process.umask(process.umask(0o077) | 0o077);
  mkdirSync(resolve(dataDir), { recursive: true, mode: 0o700 });
  // An existing journal is only checked, never opened for writing or re-moded here.
  if (!statIfPresent(resolve(journalPath))) {
    try {
      closeSync(openSync(resolve(journalPath), 'wx', 0o600));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  checkDataPermissions(dataDir, journalPath);
}
