/** The Unix socket's file: a leftover from a crash is removed, anything else at the path is left alone. */
import { promises as fs, type Stats } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as NodeJS.ErrnoException).code : undefined;
}

/** Whether something accepts connections on the socket; a refused connect means the file is a leftover. */
function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = net.connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (err) => {
      probe.destroy();
      const code = errnoCode(err);
      if (code === 'ECONNREFUSED' || code === 'ENOENT') resolve(false);
      else reject(err);
    });
  });
}

export async function prepareSocketPath(path: string): Promise<void> {
  await fs.mkdir(dirname(path), { recursive: true, mode: 0o770 });
  let stat: Stats;
  try {
    stat = await fs.lstat(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  // Only a leftover socket is ours to remove; a regular file or a live server at the path is someone else's.
  if (!stat.isSocket()) throw new Error(`ECR socket path ${path} exists and is not a socket`);
  if (await socketIsLive(path)) throw new Error(`ECR socket path ${path} is in use by another process`);
  await fs.unlink(path).catch((err: unknown) => {
    if (errnoCode(err) !== 'ENOENT') throw err;
  });
}

export async function removeSocketFile(path: string): Promise<void> {
  try {
    const stat = await fs.lstat(path);
    if (stat.isSocket()) await fs.unlink(path);
  } catch {
    // Already gone, or replaced by something we must not touch.
  }
}
