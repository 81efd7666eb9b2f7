/**
 * The shipped deployment files: the systemd unit parses as INI with the keys the terminal relies on (and passes
 * `systemd-analyze verify` where systemd is installed), the udev rules are well-formed, and the install guide
 * installs the files under the names the unit and rules expect.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EX_CONFIG } from '../../../src/config/load.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const unitText = readFileSync(join(root, 'config', 'pos-terminal.service'), 'utf8');
const rulesText = readFileSync(join(root, 'config', '99-pos-terminal.rules'), 'utf8');
const installDoc = readFileSync(join(root, 'docs', 'install.md'), 'utf8');

type Ini = Map<string, Map<string, string[]>>;

/** systemd's unit syntax: [Section], Key=Value, repeated keys accumulate, '#' and ';' start comments. */
function parseUnit(text: string): Ini {
  const sections: Ini = new Map();
  let current: Map<string, string[]> | undefined;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[([A-Za-z]+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (!kv || !current) throw new Error(`line ${index + 1} is not Key=Value inside a section: ${raw}`);
    const values = current.get(kv[1]!) ?? [];
    values.push(kv[2]!.trim());
    current.set(kv[1]!, values);
  }
  return sections;
}

function which(command: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

describe('pos-terminal.service', () => {
  const unit = parseUnit(unitText);
  const service = unit.get('Service')!;
  const one = (key: string) => {
    const values = service.get(key);
    expect(values, `[Service] ${key}`).toBeDefined();
    return values![values!.length - 1];
  };

  it('has the unit, service and install sections', () => {
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
    expect(unit.get('Unit')?.get('Description')?.[0]).toBeTruthy();
  });

  it('runs the built CLI as user pos, restarting always but not on a config error', () => {
    expect(one('Type')).toBe('notify');
    // The fallback sender (systemd-notify) is a child process.
    expect(one('NotifyAccess')).toBe('all');
    expect(Number(one('WatchdogSec'))).toBeGreaterThanOrEqual(10);
    // 78 is what the CLI exits with on a configuration error (EX_CONFIG, src/config/load.ts).
    expect(service.get('RestartPreventExitStatus')).toEqual([String(EX_CONFIG)]);
    expect(one('ExecStart')).toMatch(/^\/\S*node \/opt\/pos-terminal\/dist\/src\/cli\/pos-terminal\.js$/);
    expect(one('Restart')).toBe('always');
    expect(one('RestartSec')).toBe('1');
    expect(one('User')).toBe('pos');
    expect(one('Group')).toBe('pos');
    expect(service.get('Environment')).toContain('POS_CONFIG=/etc/pos-terminal/terminal.json');
    expect(one('StateDirectory')).toBe('pos-terminal');
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(Number(one('TimeoutStopSec'))).toBeGreaterThan(0);
    // The restart loop must never be cut off by the start rate limit.
    expect(unit.get('Unit')?.get('StartLimitIntervalSec')).toEqual(['0']);
  });

  it('is hardened, with only the state dir writable and only the reader and serial devices allowed', () => {
    expect(one('ProtectSystem')).toBe('strict');
    expect(service.get('ReadWritePaths')).toContain('/var/lib/pos-terminal');
    expect(one('PrivateTmp')).toBe('yes');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('DevicePolicy')).toBe('closed');
    expect(service.get('DeviceAllow')).toEqual([
      'char-hidraw rw',
      'char-ttyS rw',
      'char-ttyUSB rw',
      'char-ttyACM rw',
      'char-usb rw',
      'char-fb rw',
    ]);
    expect(service.get('CapabilityBoundingSet')).toEqual(['']);
    expect(service.get('SystemCallFilter')?.[0]).toBe('@system-service');
    expect(one('ProtectClock')).toBe('yes');
    expect(one('ProtectProc')).toBe('invisible');
    expect(one('SupplementaryGroups')).toBe('dialout');
    // PrivateDevices would hide the card reader and printer; MemoryDenyWriteExecute breaks the V8 JIT.
    expect(service.has('PrivateDevices')).toBe(false);
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
  });

  const analyze = which('systemd-analyze');
  if (!analyze) console.log('systemd-analyze not found: skipping `systemd-analyze verify` of pos-terminal.service');
  it.skipIf(!analyze)('passes systemd-analyze verify', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pos-unit-'));
    try {
      // verify checks that ExecStart's program exists: point it at the node running this test.
      const path = join(dir, 'pos-terminal.service');
      writeFileSync(path, unitText.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`));
      const r = spawnSync(analyze!, ['verify', '--man=no', path], { encoding: 'utf8' });
      // verify exits 0 on keys it ignores, so any complaint naming our file counts as a failure too.
      const complaints = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes('pos-terminal.service'));
      expect({ status: r.status, complaints }).toEqual({ status: 0, complaints: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('waits for the devices udev tags for systemd, without stopping when one is unplugged', () => {
    const rules = rulesText.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    const tagged = rules
      .filter((l) => l.includes('TAG+="systemd"'))
      .flatMap((l) => [...l.matchAll(/SYMLINK\+="([^"]+)"/g)].map((m) => m[1]!));
    expect(tagged.sort()).toEqual(['pos-cardreader', 'pos-printer']);
    // systemd's unit name of /dev/pos-printer: path escaping turns '-' into \x2d.
    const deviceUnits = tagged.map((name) => `dev-${name.replace(/-/g, '\\x2d')}.device`);
    const words = (key: string) => (unit.get('Unit')?.get(key) ?? []).flatMap((v) => v.split(/\s+/));
    expect(words('Wants')).toEqual(expect.arrayContaining(deviceUnits));
    expect(words('After')).toEqual(expect.arrayContaining(deviceUnits));
    // BindsTo would stop the terminal when a device goes away; it goes degraded and reopens the device instead.
    expect(unit.get('Unit')?.has('BindsTo')).toBe(false);
  });

  if (!analyze) console.log('systemd-analyze not found: skipping the `systemd-analyze security` exposure check');
  it.skipIf(!analyze)('has an exposure of at most 3.0 in systemd-analyze security', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pos-unit-'));
    try {
      const path = join(dir, 'pos-terminal.service');
      writeFileSync(path, unitText.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`));
      const r = spawnSync(analyze!, ['security', '--offline=true', '--no-pager', path], { encoding: 'utf8' });
      const m = /Overall exposure level for pos-terminal\.service: (\d+(?:\.\d+)?)/.exec(r.stdout);
      expect(m, `${r.stdout}\n${r.stderr}`).not.toBeNull();
      expect(Number(m![1])).toBeLessThanOrEqual(3.0);
      // The same check as CI's gate, from systemd itself: --threshold fails the command above 30 (3.0).
      const gate = spawnSync(analyze!, ['security', '--offline=true', '--threshold=30', '--no-pager', path], {
        encoding: 'utf8',
      });
      expect(gate.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('99-pos-terminal.rules', () => {
  const MATCH_KEYS =
    /^(SUBSYSTEM|SUBSYSTEMS|KERNEL|KERNELS|ACTION|DRIVER|DRIVERS|ENV\{[A-Za-z_]+\}|ATTR\{[A-Za-z_]+\}|ATTRS\{[A-Za-z_]+\})$/;
  const ASSIGN_KEYS = /^(GROUP|OWNER|MODE|SYMLINK|TAG|ENV\{[A-Za-z_]+\}|RUN)$/;

  /** Active rules, and commented-out example rules (which must be valid once uncommented). */
  const lines = rulesText.split('\n');
  const active = lines.filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  const examples = lines.filter((l) => /^#[A-Z]+[{=!]/.test(l)).map((l) => l.slice(1));

  function parseRule(line: string): Array<{ key: string; op: string; value: string }> {
    const parts = line.split(/,\s*/);
    return parts.map((part) => {
      const m = /^([A-Z]+(?:\{[A-Za-z_]+\})?)(==|!=|\+=|-=|:=|=)"([^"]*)"$/.exec(part.trim());
      if (!m) throw new Error(`malformed udev key in ${JSON.stringify(line)}: ${JSON.stringify(part)}`);
      return { key: m[1]!, op: m[2]!, value: m[3]! };
    });
  }

  it('has only well-formed KEY=="match" / KEY="assign" rules', () => {
    expect(active.length).toBeGreaterThan(0);
    for (const line of [...active, ...examples]) {
      const keys = parseRule(line);
      const matches = keys.filter((k) => k.op === '==' || k.op === '!=');
      const assigns = keys.filter((k) => k.op !== '==' && k.op !== '!=');
      expect(matches.length, line).toBeGreaterThan(0);
      expect(assigns.length, line).toBeGreaterThan(0);
      for (const k of matches) expect(k.key, line).toMatch(MATCH_KEYS);
      for (const k of assigns) expect(k.key, line).toMatch(ASSIGN_KEYS);
      // Every rule gives the pos group, and only it, read-write access.
      expect(assigns).toContainEqual({ key: 'GROUP', op: '=', value: 'pos' });
      expect(assigns).toContainEqual({ key: 'MODE', op: '=', value: '0660' });
    }
  });

  it('covers the HID reader by vendor and product id, and the serial ports, with stable names', () => {
    const rules = active.map(parseRule);
    const hid = rules.find((r) => r.some((k) => k.key === 'SUBSYSTEM' && k.value === 'hidraw'));
    expect(hid).toBeDefined();
    expect(hid!.find((k) => k.key === 'ATTRS{idVendor}')?.value).toMatch(/^[0-9a-f]{4}$/);
    expect(hid!.find((k) => k.key === 'ATTRS{idProduct}')?.value).toMatch(/^[0-9a-f]{4}$/);
    expect(hid).toContainEqual({ key: 'SYMLINK', op: '+=', value: 'pos-cardreader' });

    const kernels = rules.flatMap((r) => r.filter((k) => k.key === 'KERNEL').map((k) => k.value));
    for (const port of ['ttyS', 'ttyUSB', 'ttyACM']) expect(kernels).toContain(`${port}[0-9]*`);
    const symlinks = rules.flatMap((r) => r.filter((k) => k.key === 'SYMLINK').map((k) => k.value));
    expect(symlinks).toEqual(expect.arrayContaining(['pos-printer', 'pos-cardreader']));
  });

  const udevadm = which('udevadm');
  const canVerify = udevadm !== undefined && spawnSync(udevadm, ['verify', '--help']).status === 0;
  if (!canVerify)
    console.log('udevadm verify not available (needs systemd 253 or newer): skipping it for 99-pos-terminal.rules');
  it.skipIf(!canVerify)('passes udevadm verify', () => {
    execFileSync(udevadm!, ['verify', join(root, 'config', '99-pos-terminal.rules')], { encoding: 'utf8' });
  });
});

describe('docs/install.md', () => {
  it('installs the unit, the rules and the key under the names they expect', () => {
    for (const step of [
      'npm ci --omit=dev',
      'npm run build',
      'useradd --system',
      '/etc/systemd/system/pos-terminal.service',
      '/etc/udev/rules.d/99-pos-terminal.rules',
      '/etc/pos-terminal/terminal.json',
      'install -m 600 -o pos -g pos /dev/null /etc/pos-terminal/keys/saf.key',
      'systemctl enable --now pos-terminal',
      'journalctl -u pos-terminal',
      'apt-get install -y libusb-1.0-0 libudev-dev build-essential python3',
    ]) {
      expect(installDoc, step).toContain(step);
    }
    // The example configuration names the devices by the rules' stable names, not by plug order.
    const example = readFileSync(join(root, 'config', 'terminal.example.json'), 'utf8');
    expect(example).toContain('"path": "/dev/pos-printer"');
    expect(example).toContain('"path": "/dev/pos-display"');
    expect(example).not.toMatch(/"\/dev\/tty(S|USB|ACM)\d+"/);
    // The key path the guide creates is the one the example configuration reads.
    expect(readFileSync(join(root, 'config', 'terminal.example.json'), 'utf8')).toContain(
      '"keyFile": "/etc/pos-terminal/keys/saf.key"',
    );
  });
});
