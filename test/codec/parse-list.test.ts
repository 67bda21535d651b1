/**
 * parseCodecList (`--codec`): `raw` alone or distinct codec names in order; anything else is an
 * OptionError naming --codec, the accepted names and what was given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionError } from '../../src/util/errors.js';
import { parseCodecList } from '../../src/codec/registry.js';

test('parseCodecList accepts raw alone and lists of distinct codecs, in the order given', () => {
  assert.deepEqual(parseCodecList('raw'), []);
  assert.deepEqual(parseCodecList('zero'), ['zero']);
  assert.deepEqual(parseCodecList('zero,xbzrle,lz4'), ['zero', 'xbzrle', 'lz4']);
  assert.deepEqual(parseCodecList('lz4, zero'), ['lz4', 'zero']);
  assert.deepEqual(parseCodecList('deflate,xbzrle,zero,lz4'), ['deflate', 'xbzrle', 'zero', 'lz4']);
});

test('parseCodecList rejects unknown names, duplicates, raw with others and empty entries', () => {
  const cases: [string, string][] = [
    ['zstd', 'unknown codec "zstd"'],
    ['zero,ZERO', 'unknown codec "ZERO"'],
    ['zero,lz4,zero', 'zero twice'],
    ['raw,zero', 'raw sends every page uncoded'],
    ['zero,raw', 'raw sends every page uncoded'],
    ['', 'an empty name'],
    ['zero,', 'an empty name'],
    ['zero,,lz4', 'an empty name'],
  ];
  for (const [text, why] of cases) {
    assert.throws(
      () => parseCodecList(text),
      (e: unknown) => {
        assert.ok(e instanceof OptionError, `${JSON.stringify(text)}: an OptionError`);
        assert.equal(e.option, '--codec');
        for (const part of ['--codec must be', 'raw', 'zero, xbzrle, lz4, deflate', `(got "${text}"`, why]) {
          assert.ok(e.message.includes(part), `${JSON.stringify(text)}: "${e.message}" mentions ${part}`);
        }
        return true;
      },
    );
  }
});
