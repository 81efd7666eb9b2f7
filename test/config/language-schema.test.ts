import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema, packageRoot } from '../../src/config/index.js';

type Cfg = { terminal: Record<string, unknown>; hal: { printer: Record<string, unknown> } };
const defaults = JSON.parse(readFileSync(join(packageRoot(), 'config', 'default.json'), 'utf8')) as Cfg;

function withTerminal(patch: Record<string, unknown>, printer: Record<string, unknown> = {}) {
  const cfg = structuredClone(defaults);
  Object.assign(cfg.terminal, patch);
  Object.assign(cfg.hal.printer, printer);
  return configSchema.safeParse(cfg);
}

describe('language, time zone and printer model in the configuration', () => {
  it('takes the languages, IANA zones and printer models it knows', () => {
    const r = withTerminal({ language: 'zh-CN', timeZone: 'Asia/Shanghai' }, { model: 'generic-chinese-58mm' });
    expect(r.success).toBe(true);
    expect(r.data?.terminal.language).toBe('zh-CN');
    expect(r.data?.terminal.timeZone).toBe('Asia/Shanghai');
    expect(r.data?.hal.printer.model).toBe('generic-chinese-58mm');
    expect(withTerminal({ language: 'fr', timeZone: 'Europe/Paris' }, { model: 'epson-tm-t88' }).success).toBe(true);
  });

  it('refuses an unknown language, zone or model with what it expected', () => {
    const language = withTerminal({ language: 'klingon' });
    expect(language.error?.issues[0]?.message).toMatch(/one of "en", "zh-CN", "fr", "de"/);
    const zone = withTerminal({ timeZone: 'Mars/Olympus' });
    expect(zone.error?.issues[0]?.message).toBe('an IANA time zone like "Europe/Paris"');
    const model = withTerminal({}, { model: 'tm-unknown' });
    expect(model.error?.issues[0]?.path).toEqual(['hal', 'printer', 'model']);
  });

  it('defaults to English and the ASCII printer, the zone left to the system', () => {
    const r = configSchema.parse(defaults);
    expect(r.terminal.language).toBe('en');
    expect(r.terminal.timeZone).toBeUndefined();
    expect(r.hal.printer.model).toBe('ascii');
  });
});
