// A page codec of your own: run-length encoding, which shrinks pages of long runs of one byte
// (fresh zero pages with a few writes, padding, bitmaps) and leaves the rest to the next codec.
//
//   migbench run --codec ./examples/codecs/run-length.js,lz4 --content mixed:40:40:20 --write-size 64
//
// encode(page, pageNumber, out): page is the guest page (a Uint8Array of the page size; read it,
// do not keep it), out the room for one page. Write the encoding into out and return its length,
// or -1 to leave the page to the next codec of --codec (or to raw). An encoding as long as the
// page is not taken. decode(encoded, pageNumber, target): write the page into target (the target
// host's page, holding what was sent for it before). The bytes come from the wire: throw on any
// you cannot decode, and never write outside target. Verification compares every byte at the end.
//
// The encoding: runs of (length - 1, byte), two bytes each, a run at most 256 bytes long.
// Options (--codec-opt): max-ratio, take a page only when it shrinks to this share of its size or
// less (default 0.5).

// The options it takes: migbench refuses any other (a mistyped one is an error, not ignored).
export const options = {
  'max-ratio': 'take a page only when it shrinks to this share of its size or less (default 0.5)',
};

export default function runLength(options) {
  const maxRatio = Number(options['max-ratio'] ?? 0.5);
  if (!(maxRatio > 0 && maxRatio < 1))
    throw new Error(`max-ratio must be a share from 0 to 1, got ${options['max-ratio']}`);
  return {
    name: 'run-length',
    encode(page, pageNumber, out) {
      const limit = Math.min(out.length, Math.floor(page.length * maxRatio));
      let n = 0;
      for (let i = 0; i < page.length;) {
        const b = page[i];
        let run = 1;
        while (run < 256 && i + run < page.length && page[i + run] === b) run++;
        if (n + 2 > limit) return -1;
        out[n++] = run - 1;
        out[n++] = b;
        i += run;
      }
      return n;
    },
    decode(encoded, pageNumber, target) {
      if (encoded.length % 2 !== 0) throw new Error(`an odd length ${encoded.length}`);
      let total = 0;
      for (let i = 0; i < encoded.length; i += 2) total += encoded[i] + 1;
      if (total !== target.length) throw new Error(`runs of ${total} bytes for a page of ${target.length}`);
      let at = 0;
      for (let i = 0; i < encoded.length; i += 2) {
        const run = encoded[i] + 1;
        target.fill(encoded[i + 1], at, at + run);
        at += run;
      }
    },
  };
}
