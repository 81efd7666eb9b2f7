/** Field 55: built from card and terminal data with the required tags, sensitive card data refused. */
import { describe, expect, it } from 'vitest';
import { buildField55, Field55Error, FIELD55_REQUIRED, parseField55 } from '../../../hal/emv/field55.js';
import { EMV_TAGS, isSensitiveTag, tagInfo } from '../../../hal/emv/tags.js';
import { decodeTlv } from '../../../hal/emv/tlv.js';

const h = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));

const card = {
  '9F26': h('8E19A1B2C3D4E5F6'),
  '9F27': h('80'),
  '9F10': h('06010A03A00000'),
  '9F36': h('0001'),
  '82': h('1980'),
  '5F34': h('01'),
  '84': h('A0000000031010'),
};
const terminal = {
  '9F37': h('12345678'),
  '95': h('0000008000'),
  '9A': h('260101'),
  '9C': h('00'),
  '9F02': h('000000001250'),
  '9F03': h('000000000000'),
  '5F2A': h('0978'),
  '9F1A': h('0250'),
  '9F33': h('E0F8C8'),
  '9F34': h('420300'),
  '9F35': h('22'),
};

function caught(fn: () => unknown): Field55Error {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(Field55Error);
    return error as Field55Error;
  }
  throw new Error('expected a Field55Error');
}

describe('the tag dictionary', () => {
  it('knows every tag the terminal uses, with format, length bounds and the sensitive flag', () => {
    const used =
      '9F26 9F27 9F10 9F37 9F36 95 9A 9C 9F02 9F03 5F2A 82 9F1A 9F33 9F34 9F35 84 4F 5F34 8A 91 71 72 9F5B 8E 8C 8D 9F0D 9F0E 9F0F 9F06 50 5A 57 5F24 5F20 9F07 9F09 9F1E 9F41 9F53 9F66 9F6C 9B';
    for (const tag of used.split(' ')) expect(tagInfo(tag), tag).toBeDefined();
    expect(tagInfo('9f26')).toMatchObject({ format: 'b', minLength: 8, maxLength: 8, sensitive: false });
    expect(tagInfo('9F02')).toMatchObject({ format: 'n', minLength: 6, maxLength: 6 });
    expect(['5A', '57', '5F20'].every(isSensitiveTag)).toBe(true);
    expect(Object.entries(EMV_TAGS).filter(([, i]) => i.sensitive && i.source !== 'card')).toEqual([]);
  });
});

describe('buildField55', () => {
  it('writes the required tags in order, then 84 (or 4F), then the optional ones present', () => {
    const field = buildField55(card, terminal, { '9F41': h('00000042') });
    const tags = decodeTlv(field).map((n) => n.tag);
    expect(tags).toEqual([...FIELD55_REQUIRED, '84', '9F41']);
    const parsed = parseField55(field);
    expect(parsed.get('9F02')).toEqual(h('000000001250'));
    const { '84': _df, ...withoutDf } = card;
    expect(decodeTlv(buildField55(withoutDf, terminal, { '4F': h('A0000000041010') })).map((n) => n.tag)).toContain(
      '4F',
    );
  });

  it('names every missing required tag', () => {
    const { '9F26': _ac, '84': _df, ...partial } = card;
    const { '95': _tvr, ...rest } = terminal;
    const error = caught(() => buildField55(partial, rest));
    expect(error.code).toBe('missing-tags');
    expect(error.tags).toEqual(['9F26', '95', '84|4F']);
  });

  it('refuses the PAN, the track 2 equivalent and the cardholder name, without quoting them', () => {
    const error = caught(() =>
      buildField55(card, terminal, { '5A': h('4761739001010010'), '57': h('4761739001010010D2812'), '5f20': h('41') }),
    );
    expect(error.code).toBe('sensitive-tags');
    expect([...error.tags].sort()).toEqual(['57', '5A', '5F20']);
    expect(error.message).not.toContain('4761');
  });

  it('refuses values of the wrong length', () => {
    const error = caught(() => buildField55(card, terminal, { '9F37': h('1234') }));
    expect(error).toMatchObject({ code: 'bad-length', tags: ['9F37'] });
  });
});

describe('parseField55', () => {
  it('refuses what is not TLV, lacks a tag or carries card data', () => {
    expect(caught(() => parseField55(h('9F2608AA'))).code).toBe('bad-tlv');
    expect(caught(() => parseField55(h('9F260801020304050607089F270180'))).code).toBe('missing-tags');
    const good = buildField55(card, terminal);
    const withPan = Uint8Array.from([...good, ...h('5A084761739001010010')]);
    expect(caught(() => parseField55(withPan))).toMatchObject({ code: 'sensitive-tags', tags: ['5A'] });
  });
});
