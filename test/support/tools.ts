/**
 * Outside programs the tests talk to, from the Debian packages `.ci/system-deps` installs. A test that needs one
 * that is missing fails with the line that installs it, rather than passing without having run.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Each program and the Debian package that carries it. */
export const TOOL_PACKAGES = {
  mosquitto: 'mosquitto',
  mosquitto_sub: 'mosquitto-clients',
  mosquitto_pub: 'mosquitto-clients',
  socat: 'socat',
  protoc: 'protobuf-compiler',
  openssl: 'openssl',
} as const;

export type Tool = keyof typeof TOOL_PACKAGES;

// Daemons such as mosquitto live in sbin, which a user's PATH often leaves out.
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The program's path, or undefined when it is not installed. */
export function findTool(tool: Tool, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of [...path.split(delimiter).filter(Boolean), ...SBIN]) {
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

export function installLine(tool: Tool): string {
  return `apt-get install -y ${TOOL_PACKAGES[tool]}`;
}

/** The program's path; throws, naming the install line, when it is missing. */
export function requireTool(tool: Tool): string {
  const found = findTool(tool);
  if (found === undefined)
    throw new Error(
      `${tool} is not installed; this test needs it: ${installLine(tool)} (or, as root, bash .ci/system-deps)`,
    );
  return found;
}
