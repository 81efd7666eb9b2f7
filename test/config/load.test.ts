import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  EX_CONFIG,
  defaultConfigPath,
  formatConfigError,
  loadConfig,
  loadConfigOrExit,
  packageRoot,
  type ExitIo,
} from '../../src/config/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pos-config-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return p;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const shipped = (name: string) => join(packageRoot(), 'config', name);

describe('shipped config files', () => {
  it('default.json alone loads and is the base', () => {
    const { config, sources } = loadConfig({ env: {} });
    expect(sources).toEqual([defaultConfigPath()]);
    expect(config.host.address).toBe('127.0.0.1:8583');
    expect(config.host.simulator.embedded).toBe(true);
    expect(config.mqtt.embeddedBroker).toBe(true);
    expect(config.hal.cardReader.driver).toBe('mock');
    expect(config.terminal.currency).toBe('978');
    expect(config.dataDir).toBe('./data');
    expect(config.offline).toEqual({
      enabled: true,
      floorLimit: 25000,
      maxCount: 500,
      maxTotal: 2500000,
      maxAgeMs: 86400000,
      entryModes: ['chip', 'contactless'],
      allowRefunds: false,
      keyFile: 'keys/saf.key',
      createKeyIfMissing: true,
    });
    expect(config.forwarding).toEqual({ initialDelayMs: 1000, maxDelayMs: 300000, intervalMs: 30000 });
  });

  it('default.json is found next to package.json', () => {
    expect(defaultConfigPath()).toBe(join(packageRoot(), 'config', 'default.json'));
    expect(JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).name).toBe('pos-terminal');
  });

  it('sim.json loads as an overlay', () => {
    const { config, sources } = loadConfig({ path: shipped('sim.json'), env: {} });
    expect(sources).toEqual([defaultConfigPath(), shipped('sim.json')]);
    expect(config.dataDir).toBe('./data/sim');
    expect(config.hal.display.driver).toBe('console');
    expect(config.host.simulator.embedded).toBe(true);
    expect(config.offline.keyFile).toBe('keys/saf.key');
  });

  it('terminal.example.json (with comments) loads for real hardware', () => {
    const { config } = loadConfig({ path: shipped('terminal.example.json'), env: {} });
    expect(config.dataDir).toBe('/var/lib/pos-terminal');
    expect(config.host.simulator.embedded).toBe(false);
    expect(config.host.tls.enabled).toBe(true);
    expect(config.mqtt.embeddedBroker).toBe(false);
    expect(config.hal.cardReader).toEqual({ driver: 'hid', hid: { vendorId: 0x0801, productId: 0x0002 } });
    expect(config.hal.printer.driver).toBe('escpos-serial');
    // The udev rules' stable names, not plug-order ones.
    expect(config.hal.printer.serial).toEqual({
      path: '/dev/pos-printer',
      baudRate: 19200,
      parity: 'none',
      flowControl: 'rtscts',
    });
    expect(config.hal.printer.drawer).toEqual({ pin: 2, pulseMs: 100, openWhenPin3: 'high', kickOnSale: false });
    expect(config.hal.display).toEqual({ driver: 'framebuffer', framebuffer: { path: '/dev/pos-display' } });
    expect(config.hal.network.driver).toBe('linux');
    expect(config.ecr.tokens).toHaveLength(1);
    // Keys the overlay leaves out come from default.json.
    expect(config.host.maxFrameBytes).toBe(8192);
    // A real terminal never makes up a card-data key: a lost one would strand the queued sales.
    expect(config.offline.createKeyIfMissing).toBe(false);
    expect(config.offline.enabled).toBe(false);
    expect(config.offline.keyFile).toBe('/etc/pos-terminal/keys/saf.key');
    expect(config.forwarding.maxDelayMs).toBeGreaterThanOrEqual(config.forwarding.initialDelayMs);
  });

  it('hal.display: a framebuffer needs its path; a bad pixel format is named', () => {
    const load = (display: unknown) => loadConfig({ env: {}, path: file('display.json', { hal: { display } }) });
    expect(() => load({ driver: 'framebuffer' })).toThrow(ConfigError);
    expect(() => load({ driver: 'framebuffer', framebuffer: { path: '/dev/fb0', bitsPerPixel: 8 } })).toThrow(
      /hal\.display\.framebuffer\.bitsPerPixel/,
    );
    const fb = { path: '/dev/fb0', width: 480, height: 272, bitsPerPixel: 16 };
    expect(load({ driver: 'framebuffer', framebuffer: fb }).config.hal.display.framebuffer).toEqual(fb);
  });
});

describe('overlay merge', () => {
  it('merges objects key by key and replaces arrays and scalars', () => {
    const p = file('merge.json', {
      terminal: { addressLines: ['Only line'] },
      host: { reconnect: { maxDelayMs: 1000 }, tls: { caFile: 'ca.pem' } },
      ecr: { tokens: ['0123456789abcdef'] },
    });
    const { config } = loadConfig({ path: p, env: {} });
    expect(config.terminal.addressLines).toEqual(['Only line']);
    expect(config.terminal.id).toBe('SIM00001');
    expect(config.host.reconnect).toEqual({ initialDelayMs: 500, maxDelayMs: 1000 });
    expect(config.host.tls.caFile).toBe('ca.pem');
    expect(config.host.tls.rejectUnauthorized).toBe(true);
    expect(config.ecr.tokens).toEqual(['0123456789abcdef']);
  });

  it('can clear an array and null a nullable value', () => {
    const p = file('clear.json', { terminal: { addressLines: [] }, ecr: { socketPath: null } });
    const { config } = loadConfig({ path: p, env: {} });
    expect(config.terminal.addressLines).toEqual([]);
    expect(config.ecr.socketPath).toBeNull();
  });

  it('keeps relative paths as written', () => {
    const p = file('rel.json', { dataDir: 'var/pos', host: { tls: { caFile: '../ca.pem' } } });
    const { config } = loadConfig({ path: p, env: {} });
    expect(config.dataDir).toBe('var/pos');
    expect(config.host.tls.caFile).toBe('../ca.pem');
  });
});

describe('overlay selection', () => {
  it('uses POS_CONFIG when no path is given', () => {
    const p = file('env.json', { dataDir: '/from-env' });
    const { config, sources } = loadConfig({ env: { POS_CONFIG: p } });
    expect(config.dataDir).toBe('/from-env');
    expect(sources).toEqual([defaultConfigPath(), p]);
  });

  it('an explicit path wins over POS_CONFIG', () => {
    const a = file('explicit.json', { dataDir: '/explicit' });
    const b = file('ignored.json', { dataDir: '/ignored' });
    const { config, sources } = loadConfig({ path: a, env: { POS_CONFIG: b } });
    expect(config.dataDir).toBe('/explicit');
    expect(sources).not.toContain(b);
  });

  it('an empty POS_CONFIG means default only', () => {
    expect(loadConfig({ env: { POS_CONFIG: '' } }).sources).toEqual([defaultConfigPath()]);
  });
});

describe('environment overrides', () => {
  it('applies each variable and lists it in sources', () => {
    const { config, sources } = loadConfig({
      env: {
        POS_DATA_DIR: '/tmp/pos',
        POS_HOST: '[::1]:9000',
        POS_ECR_PORT: '9100',
        POS_MQTT_URL: 'mqtts://broker.example:8883',
        POS_LOG_LEVEL: 'trace',
      },
    });
    expect(config.dataDir).toBe('/tmp/pos');
    expect(config.host.address).toBe('[::1]:9000');
    expect(config.ecr.port).toBe(9100);
    expect(config.mqtt.url).toBe('mqtts://broker.example:8883');
    expect(config.log.level).toBe('trace');
    expect(sources).toEqual([
      defaultConfigPath(),
      'POS_DATA_DIR',
      'POS_HOST',
      'POS_ECR_PORT',
      'POS_MQTT_URL',
      'POS_LOG_LEVEL',
    ]);
  });

  it('overrides win over the overlay file', () => {
    const p = file('port.json', { ecr: { port: 7000 } });
    expect(loadConfig({ path: p, env: { POS_ECR_PORT: '7001' } }).config.ecr.port).toBe(7001);
  });

  it('ignores empty variables', () => {
    expect(loadConfig({ env: { POS_LOG_LEVEL: '' } }).config.log.level).toBe('info');
  });

  it.each([
    ['POS_ECR_PORT', 'abc', 'ecr.port: expected an integer from 0 to 65535, found "abc" (from POS_ECR_PORT)'],
    ['POS_ECR_PORT', '70000', 'ecr.port: expected an integer from 0 to 65535, found 70000 (from POS_ECR_PORT)'],
    [
      'POS_HOST',
      'nocolon',
      'host.address: expected host:port, e.g. 127.0.0.1:8583 or [::1]:8583, found "nocolon" (from POS_HOST)',
    ],
    [
      'POS_LOG_LEVEL',
      'loud',
      'log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", found "loud" (from POS_LOG_LEVEL)',
    ],
    [
      'POS_MQTT_URL',
      'http://x',
      'mqtt.url: expected an mqtt://, mqtts://, ws:// or wss:// URL, found "http://x" (from POS_MQTT_URL)',
    ],
  ])('%s=%s is reported as a problem line', (name, value, line) => {
    const err = configError(() => loadConfig({ env: { [name]: value } }));
    expect(err.message).toBe(line);
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]?.source).toBe(name);
  });
});

describe('validation errors', () => {
  it('reports one line per bad key with path, expected and found', () => {
    const p = file('bad.json', {
      terminal: { id: 'TOOLONG123', lable: 'typo' },
      host: { responseTimeoutMs: 'abc', tls: { enabled: 'yes' } },
      ecr: { tokens: ['short'] },
      hal: { printer: { columns: 10.5 }, cardReader: { driver: 'hid' } },
      transaction: { minAmount: 100, maxAmount: 50 },
      extra: true,
    });
    const err = configError(() => loadConfig({ path: p, env: {} }));
    expect(err.name).toBe('ConfigError');
    const lines = err.message.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'terminal.id: expected 8 printable ASCII characters (ISO 8583 field 41), found "TOOLONG123"',
        'terminal.lable: expected one of the keys id, merchantId, pinPad, fleet, currency, label, addressLines, language, timeZone, found unknown key',
        'host.responseTimeoutMs: expected an integer >= 100, found "abc"',
        'host.tls.enabled: expected true or false, found "yes"',
        'ecr.tokens[0]: expected a token of 16 to 256 characters without spaces, found "short"',
        'hal.cardReader.hid: expected an object { vendorId, productId } when driver is "hid", found nothing',
        'hal.printer.columns: expected an integer from 16 to 128, found 10.5',
        'transaction.maxAmount: expected an integer >= transaction.minAmount (100), found 50',
        'extra: expected one of the keys terminal, dataDir, log, host, ecr, mqtt, hal, transaction, supervisor, offline, forwarding, selftest, emv, settlement, journal, preauth, tips, found unknown key',
      ]),
    );
    expect(lines).toHaveLength(9);
    expect(err.problems).toContainEqual({
      path: 'host.responseTimeoutMs',
      expected: 'an integer >= 100',
      found: '"abc"',
    });
  });

  it('reports a missing required key as found nothing', () => {
    const p = file('missing.json', { hal: { cardReader: { driver: 'hid' } }, log: null });
    const err = configError(() => loadConfig({ path: p, env: {} }));
    expect(err.message.split('\n')).toEqual([
      'log: expected an object, found null',
      'hal.cardReader.hid: expected an object { vendorId, productId } when driver is "hid", found nothing',
    ]);
  });

  it('requires the serial block for serial drivers', () => {
    const p = file('serial.json', { hal: { printer: { driver: 'escpos-serial' }, cardReader: { driver: 'serial' } } });
    const err = configError(() => loadConfig({ path: p, env: {} }));
    expect(err.problems.map((x) => x.path)).toEqual(['hal.cardReader.serial', 'hal.printer.serial']);
  });

  it('refuses a half-configured client certificate', () => {
    const p = file('cert.json', { host: { tls: { certFile: 'c.pem' } } });
    const err = configError(() => loadConfig({ path: p, env: {} }));
    expect(err.message).toBe('host.tls.keyFile: expected a key file path when certFile is set, found null');
  });

  it('refuses a reconnect ceiling below the initial delay', () => {
    const p = file('reconnect.json', { host: { reconnect: { initialDelayMs: 5000, maxDelayMs: 1000 } } });
    const err = configError(() => loadConfig({ path: p, env: {} }));
    expect(err.problems).toEqual([
      {
        path: 'host.reconnect.maxDelayMs',
        expected: 'an integer >= host.reconnect.initialDelayMs (5000)',
        found: '1000',
      },
    ]);
  });

  it('refuses a forwarding ceiling below the initial delay', () => {
    const p = file('forwarding.json', { forwarding: { initialDelayMs: 5000, maxDelayMs: 1000 } });
    const err = configError(() => loadConfig({ path: p, env: {} }));
    expect(err.problems).toEqual([
      { path: 'forwarding.maxDelayMs', expected: 'an integer >= forwarding.initialDelayMs (5000)', found: '1000' },
    ]);
  });

  it('checks the offline limits, entry modes and keys', () => {
    const p = file('offline.json', {
      offline: { floorLimit: -1, maxCount: 1.5, entryModes: ['chip', 'magstripe'], keyFile: '', allowRefund: true },
    });
    const err = configError(() => loadConfig({ path: p, env: {} }));
    expect(err.message.split('\n')).toEqual(
      expect.arrayContaining([
        'offline.floorLimit: expected an integer >= 0, found -1',
        'offline.maxCount: expected an integer >= 0, found 1.5',
        'offline.entryModes[1]: expected one of "chip", "contactless", "swipe", "manual", "fallback-swipe", found "magstripe"',
        'offline.keyFile: expected a file path, found ""',
        'offline.allowRefund: expected one of the keys enabled, floorLimit, maxCount, maxTotal, maxAgeMs, entryModes, allowRefunds, keyFile, createKeyIfMissing, found unknown key',
      ]),
    );
    expect(err.problems).toHaveLength(5);
  });

  it('refuses a terminal.pinPad that contradicts the attached PIN pad (field 22 would lie)', () => {
    const claimed = file('pinpad-claimed.json', { terminal: { pinPad: true }, hal: { pinPad: { driver: 'none' } } });
    expect(configError(() => loadConfig({ path: claimed, env: {} })).problems).toEqual([
      {
        path: 'terminal.pinPad',
        expected: 'false or absent: hal.pinPad.driver is "none" (field 22 follows the attached PIN pad)',
        found: 'true',
      },
    ]);
    const denied = file('pinpad-denied.json', { terminal: { pinPad: false } });
    expect(configError(() => loadConfig({ path: denied, env: {} })).problems[0]?.path).toBe('terminal.pinPad');
    const agreed = file('pinpad-agreed.json', { terminal: { pinPad: true } });
    expect(loadConfig({ path: agreed, env: {} }).config.hal.pinPad.driver).toBe('mock');
  });

  it('refuses PIN block format 4, which ISO 8583:1987 field 52 cannot carry', () => {
    const p = file('format4.json', { emv: { pinBlockFormat: 4 } });
    const err = configError(() => loadConfig({ path: p, env: {} }));
    expect(err.problems).toEqual([
      {
        path: 'emv.pinBlockFormat',
        expected: '0 (format 4 needs a 16-byte field 52, which the ISO 8583:1987 message does not have)',
        found: '4',
      },
    ]);
  });

  it('accepts a zero floor limit and no offline entry modes', () => {
    const p = file('offline-zero.json', { offline: { floorLimit: 0, maxCount: 0, maxTotal: 0, entryModes: [] } });
    const { config } = loadConfig({ path: p, env: {} });
    expect(config.offline.floorLimit).toBe(0);
    expect(config.offline.entryModes).toEqual([]);
  });

  it('allows port 0 only for the embedded simulator', () => {
    expect(loadConfig({ env: { POS_HOST: '127.0.0.1:0' } }).config.host.address).toBe('127.0.0.1:0');
    const p = file('port0.json', { host: { simulator: { embedded: false } } });
    const err = configError(() => loadConfig({ path: p, env: { POS_HOST: '127.0.0.1:0' } }));
    expect(err.message).toBe(
      'host.address: expected a non-zero port unless host.simulator.embedded is true, found "127.0.0.1:0" (from POS_HOST)',
    );
  });

  it('refuses a __proto__ key instead of letting it change the prototype', () => {
    const p = file('proto.json', '{ "log": { "__proto__": { "level": "debug" } } }');
    const err = configError(() => loadConfig({ path: p, env: {} }));
    expect(err.problems.map((x) => `${x.path} ${x.found}`)).toContain('log.__proto__ unknown key');
  });

  it('keeps one line per problem when a key holds an escaped newline', () => {
    const p = file('newline.json', '{ "log": { "le\\nvel": "debug" } }');
    const err = configError(() => loadConfig({ path: p, env: {} }));
    expect(err.problems.map((x) => x.path)).toEqual(['log."le\\nvel"']);
    expect(err.message.split('\n')).toHaveLength(1);
  });

  it('reports a top level that is not an object', () => {
    const p = file('array.json', '[1, 2]');
    const err = configError(() => loadConfig({ path: p, env: {} }));
    expect(err.message).toBe(`${p}: expected a JSON object at the top level, found [1,2]`);
  });
});

describe('file errors', () => {
  it('reports a syntax error as FILE:LINE:COL', () => {
    const p = file('syntax.json', '{\n  // comment\n  "dataDir": "./x"\n  "log": { "level": "info" }\n}\n');
    const err = configError(() => loadConfig({ path: p, env: {} }));
    expect(err.message).toBe(`${p}:4:3: expected "," between entries, found "\\"log\\""`);
  });

  it('reports unquoted keys and truncated files', () => {
    const a = file('unquoted.json', '{ dataDir: "x" }');
    expect(configError(() => loadConfig({ path: a, env: {} })).message).toMatch(
      new RegExp(`^${a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:3: expected valid JSON .*, found "dataDir"$`),
    );
    const b = file('truncated.json', '{ "dataDir": "x"');
    expect(configError(() => loadConfig({ path: b, env: {} })).message).toBe(
      `${b}:1:17: expected "}", found end of file`,
    );
  });

  it('accepts comments and trailing commas', () => {
    const p = file('jsonc.json', '/* header */ {\n "dataDir": "./y", // why\n}');
    expect(loadConfig({ path: p, env: {} }).config.dataDir).toBe('./y');
  });

  it('reports duplicate keys with their position', () => {
    const p = file('dup.json', '{\n  "dataDir": "a",\n  "dataDir": "b"\n}');
    const err = configError(() => loadConfig({ path: p, env: {} }));
    expect(err.message).toBe(`${p}:3:3: expected each key once per object, found duplicate key "dataDir"`);
  });

  it('reports a missing file as a ConfigError, not ENOENT', () => {
    const p = join(dir, 'does-not-exist.json');
    const err = configError(() => loadConfig({ path: p, env: {} }));
    expect(err.message).toBe(`${p}: expected a readable config file, found no such file`);
    expect(err.message).not.toMatch(/ENOENT/);
  });

  it('reports a directory given as the config file', () => {
    const d = join(dir, 'a-dir');
    mkdirSync(d, { recursive: true });
    expect(configError(() => loadConfig({ path: d, env: {} })).message).toBe(
      `${d}: expected a readable config file, found a directory`,
    );
  });

  it('reports a missing POS_CONFIG file the same way', () => {
    const p = join(dir, 'nope.json');
    expect(configError(() => loadConfig({ env: { POS_CONFIG: p } })).problems).toEqual([
      { path: p, expected: 'a readable config file', found: 'no such file' },
    ]);
  });
});

describe('formatConfigError and loadConfigOrExit', () => {
  class Exited extends Error {
    constructor(readonly code: number) {
      super(`exit ${code}`);
    }
  }
  function fakeIo(): ExitIo & { written: string[] } {
    const written: string[] = [];
    return {
      written,
      exit: (code: number): never => {
        throw new Exited(code);
      },
      stderr: { write: (chunk: string) => written.push(chunk) },
    };
  }

  it('formats one config error line per problem', () => {
    const err = new ConfigError([
      { path: 'a.b', expected: 'an integer >= 1', found: '"x"' },
      { path: 'c', expected: 'one of "x"', found: '"y"', source: 'POS_LOG_LEVEL' },
    ]);
    expect(err.name).toBe('ConfigError');
    expect(formatConfigError(err)).toBe(
      'config error: a.b: expected an integer >= 1, found "x"\n' +
        'config error: c: expected one of "x", found "y" (from POS_LOG_LEVEL)\n',
    );
  });

  it('returns the loaded config when it is valid', () => {
    const io = fakeIo();
    expect(loadConfigOrExit({ env: {} }, io).config.log.level).toBe('info');
    expect(io.written).toEqual([]);
  });

  it('prints config error lines and exits 78 on a bad config', () => {
    const io = fakeIo();
    let code: number | undefined;
    try {
      loadConfigOrExit({ env: { POS_ECR_PORT: 'abc', POS_LOG_LEVEL: 'loud' } }, io);
    } catch (err) {
      code = (err as Exited).code;
    }
    expect(code).toBe(EX_CONFIG);
    expect(EX_CONFIG).toBe(78);
    const out = io.written.join('');
    expect(out).toBe(
      'config error: log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", found "loud" (from POS_LOG_LEVEL)\n' +
        'config error: ecr.port: expected an integer from 0 to 65535, found "abc" (from POS_ECR_PORT)\n',
    );
    expect(out).not.toMatch(/at .*\.ts:\d+/);
  });

  it('prints a missing file the same way', () => {
    const io = fakeIo();
    const p = join(dir, 'missing-for-cli.json');
    expect(() => loadConfigOrExit({ path: p, env: {} }, io)).toThrow(Exited);
    expect(io.written.join('')).toBe(`config error: ${p}: expected a readable config file, found no such file\n`);
  });
});
