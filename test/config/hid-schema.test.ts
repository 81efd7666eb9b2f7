/** hal.cardReader.hid: the USB interface, the report ID and the reader's silences, checked with their phrases. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema, packageRoot } from '../../src/config/index.js';

const defaults = JSON.parse(readFileSync(join(packageRoot(), 'config', 'default.json'), 'utf8')) as {
  hal: Record<string, unknown>;
};

function withHid(hid: Record<string, unknown>) {
  return configSchema.safeParse({ ...defaults, hal: { ...defaults.hal, cardReader: { driver: 'hid', hid } } });
}

const ids = { vendorId: '0x0801', productId: '0x0002' };

describe('hal.cardReader.hid', () => {
  it('takes the interface, a report ID (true or a number) and the two silences', () => {
    const r = withHid({ ...ids, interface: 1, reportId: 2, interCharTimeoutMs: 150, interTrackGapMs: 60 });
    expect(r.success && r.data.hal.cardReader.hid).toEqual({
      vendorId: 0x0801,
      productId: 2,
      interface: 1,
      reportId: 2,
      interCharTimeoutMs: 150,
      interTrackGapMs: 60,
    });
    const any = withHid({ ...ids, reportId: true });
    expect(any.success && any.data.hal.cardReader.hid?.reportId).toBe(true);
  });

  it.each([
    [{ interface: -1 }, 'interface', 'an integer from 0 to 255'],
    [{ interface: 1.5 }, 'interface', 'an integer from 0 to 255'],
    [{ reportId: 'yes' }, 'reportId', 'true, false or an integer from 0 to 255'],
    [{ reportId: 256 }, 'reportId', 'true, false or an integer from 0 to 255'],
    [{ interCharTimeoutMs: 0 }, 'interCharTimeoutMs', 'an integer from 5 to 5000'],
    [{ interTrackGapMs: 60_000 }, 'interTrackGapMs', 'an integer from 5 to 5000'],
    [{ grab: true }, '', ''],
  ])('refuses %j', (patch, key, phrase) => {
    const r = withHid({ ...ids, ...patch });
    expect(r.success).toBe(false);
    const issues = r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    if (key) expect(issues).toContain(`hal.cardReader.hid.${key}: ${phrase}`);
  });
});
