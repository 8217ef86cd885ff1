/**
 * ChaCha20-Poly1305 (RFC 8439) in plain JavaScript, for small packets only.
 *
 * Why it exists: node:crypto cannot re-key or re-nonce a cipher object, so every packet pays for a new
 * EVP context plus five calls into C++ (create, setAAD, update, final, getAuthTag): about 4 µs per packet
 * whatever its size, which made AEAD the largest single cost of answering a FIND_NODE (docs/performance.md,
 * Serving). This code does a 100-byte packet in well under a microsecond; above `JS_AEAD_MAX_BYTES`
 * (crypto/aead.ts) OpenSSL's vector code wins and is used instead. Both produce the same bytes, which
 * chacha20-poly1305.spec.ts checks against node:crypto and the RFC's vectors.
 *
 * Constant time: no branch or table index depends on key, plaintext or tag bytes; the tag comparison
 * accumulates differences over all 16 bytes. Poly1305 runs in radix 2^22 on doubles: every product and
 * every sum below stays under 2^53, so the float arithmetic is exact integer arithmetic.
 */

/** A ChaCha20 key as eight little-endian words, converted once per session key rather than per packet. */
export type ChaChaKey = Uint32Array;

export function chachaKey(key: Uint8Array): ChaChaKey {
  if (key.length !== 32) throw new RangeError('a ChaCha20 key is 32 bytes');
  const words = new Uint32Array(8);
  for (let i = 0; i < 8; i++) words[i] = readLe32(key, 4 * i);
  return words;
}

/** The 12-byte nonce as three little-endian words. */
export interface ChaChaNonce {
  n0: number;
  n1: number;
  n2: number;
}

// One keystream block and the Poly1305 state are scratch: JS is single-threaded and nothing here yields.
const block = new Int32Array(16);
const h = new Float64Array(6);
const r = new Float64Array(6);
const pad = new Uint32Array(4);
const lastBlock = new Uint8Array(16);
const tagScratch = new Uint8Array(16);
/**
 * On little-endian hosts (all Node targets but s390x), 4-byte-aligned data is read and written as Int32Array
 * words: a quarter of the loads and stores of the byte loop, which is most of what a 1 KB packet costs.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Below this many bytes, making the word views costs more than they save. */
const WORD_VIEW_MIN_BYTES = 64;

function wordView(bytes: Uint8Array, offset: number, length: number): Int32Array | undefined {
  const at = bytes.byteOffset + offset;
  if (!LITTLE_ENDIAN || length < WORD_VIEW_MIN_BYTES || (at & 3) !== 0) return undefined;
  return new Int32Array(bytes.buffer, at, length >>> 2);
}
const TWO22 = 4194304;
/** 2^-22: multiplying by it is exact, and (x * INV22) | 0 is floor(x / 2^22) for 0 <= x < 2^53, minus a division. */
const INV22 = 1 / TWO22;
const MASK22 = 0x3fffff;

/** Encrypts `plaintext` into `out` at `offset`, then writes the 16-byte tag after it. Returns bytes written. */
export function chachaPolySeal(input: {
  key: ChaChaKey;
  nonce: ChaChaNonce;
  ad: Uint8Array;
  plaintext: Uint8Array;
  out: Uint8Array;
  offset: number;
}): number {
  const { key, nonce, ad, plaintext, out, offset } = input;
  polyInit(key, nonce);
  xorKeystream({ key, nonce, from: plaintext, to: out, offset });
  const ciphertext = out.subarray(offset, offset + plaintext.length);
  polyAead(ad, ciphertext);
  polyFinish(out, offset + plaintext.length);
  return plaintext.length + 16;
}

/** The plaintext of `sealed` (ciphertext then tag), or undefined when the tag does not verify. */
export function chachaPolyOpen(input: {
  key: ChaChaKey;
  nonce: ChaChaNonce;
  ad: Uint8Array;
  sealed: Uint8Array;
}): Uint8Array | undefined {
  const { key, nonce, ad, sealed } = input;
  if (sealed.length < 16) return undefined;
  const length = sealed.length - 16;
  const ciphertext = sealed.subarray(0, length);
  polyInit(key, nonce);
  polyAead(ad, ciphertext);
  polyFinish(tagScratch, 0);
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= tagScratch[i] ^ sealed[length + i];
  if (diff !== 0) return undefined;
  const plaintext = new Uint8Array(length);
  xorKeystream({ key, nonce, from: ciphertext, to: plaintext, offset: 0 });
  return plaintext;
}

/** ChaCha20 from block counter 1 (counter 0 made the Poly1305 key): to[offset + i] = from[i] ^ keystream. */
function xorKeystream(input: {
  key: ChaChaKey;
  nonce: ChaChaNonce;
  from: Uint8Array;
  to: Uint8Array;
  offset: number;
}): void {
  const { key, nonce, from, to, offset } = input;
  const length = from.length;
  const src = wordView(from, 0, length);
  const dst = src === undefined ? undefined : wordView(to, offset, length);
  for (let start = 0, counter = 1; start < length; start += 64, counter++) {
    chachaBlock(key, counter, nonce);
    const end = Math.min(64, length - start);
    let i = 0;
    if (src !== undefined && dst !== undefined) {
      const base = start >> 2;
      const words = end >> 2;
      for (; i < words; i++) dst[base + i] = src[base + i] ^ block[i];
      i <<= 2;
    } else {
      for (; i + 4 <= end; i += 4) {
        const word = block[i >> 2];
        const at = start + i;
        to[offset + at] = from[at] ^ word;
        to[offset + at + 1] = from[at + 1] ^ (word >>> 8);
        to[offset + at + 2] = from[at + 2] ^ (word >>> 16);
        to[offset + at + 3] = from[at + 3] ^ (word >>> 24);
      }
    }
    for (; i < end; i++) to[offset + start + i] = from[start + i] ^ (block[i >> 2] >>> (8 * (i & 3)));
  }
}

/** One ChaCha20 block (RFC 8439 §2.3) into `block`: 20 rounds as 10 unrolled double rounds. */
function chachaBlock(key: ChaChaKey, counter: number, nonce: ChaChaNonce): void {
  const j4 = key[0] | 0,
    j5 = key[1] | 0,
    j6 = key[2] | 0,
    j7 = key[3] | 0,
    j8 = key[4] | 0,
    j9 = key[5] | 0,
    j10 = key[6] | 0,
    j11 = key[7] | 0,
    j12 = counter | 0,
    j13 = nonce.n0 | 0,
    j14 = nonce.n1 | 0,
    j15 = nonce.n2 | 0;
  let x0 = 0x61707865,
    x1 = 0x3320646e,
    x2 = 0x79622d32,
    x3 = 0x6b206574,
    x4 = j4,
    x5 = j5,
    x6 = j6,
    x7 = j7,
    x8 = j8,
    x9 = j9,
    x10 = j10,
    x11 = j11,
    x12 = j12,
    x13 = j13,
    x14 = j14,
    x15 = j15;
  // One quarter round per line: the layout shows the RFC 8439 §2.1 structure that formatting would scatter.
  // prettier-ignore
  for (let round = 0; round < 10; round++) {
    // Column round.
    x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 16) | (x12 >>> 16);
    x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 12) | (x4 >>> 20);
    x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 8) | (x12 >>> 24);
    x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 7) | (x4 >>> 25);
    x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 16) | (x13 >>> 16);
    x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 12) | (x5 >>> 20);
    x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 8) | (x13 >>> 24);
    x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 7) | (x5 >>> 25);
    x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 16) | (x14 >>> 16);
    x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 12) | (x6 >>> 20);
    x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 8) | (x14 >>> 24);
    x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 7) | (x6 >>> 25);
    x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 16) | (x15 >>> 16);
    x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 12) | (x7 >>> 20);
    x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 8) | (x15 >>> 24);
    x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 7) | (x7 >>> 25);
    // Diagonal round.
    x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 16) | (x15 >>> 16);
    x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 12) | (x5 >>> 20);
    x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 8) | (x15 >>> 24);
    x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 7) | (x5 >>> 25);
    x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 16) | (x12 >>> 16);
    x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 12) | (x6 >>> 20);
    x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 8) | (x12 >>> 24);
    x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 7) | (x6 >>> 25);
    x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 16) | (x13 >>> 16);
    x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 12) | (x7 >>> 20);
    x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 8) | (x13 >>> 24);
    x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 7) | (x7 >>> 25);
    x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 16) | (x14 >>> 16);
    x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 12) | (x4 >>> 20);
    x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 8) | (x14 >>> 24);
    x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 7) | (x4 >>> 25);
  }
  block[0] = x0 + 0x61707865;
  block[1] = x1 + 0x3320646e;
  block[2] = x2 + 0x79622d32;
  block[3] = x3 + 0x6b206574;
  block[4] = x4 + j4;
  block[5] = x5 + j5;
  block[6] = x6 + j6;
  block[7] = x7 + j7;
  block[8] = x8 + j8;
  block[9] = x9 + j9;
  block[10] = x10 + j10;
  block[11] = x11 + j11;
  block[12] = x12 + j12;
  block[13] = x13 + j13;
  block[14] = x14 + j14;
  block[15] = x15 + j15;
}

/** Poly1305 key from keystream block 0 (RFC 8439 §2.6): r (clamped) into `r`, s kept in `pad`; h = 0. */
function polyInit(key: ChaChaKey, nonce: ChaChaNonce): void {
  chachaBlock(key, 0, nonce);
  const t0 = block[0] & 0x0fffffff,
    t1 = block[1] & 0x0ffffffc,
    t2 = block[2] & 0x0ffffffc,
    t3 = block[3] & 0x0ffffffc;
  r[0] = t0 & MASK22;
  r[1] = (t0 >>> 22) | ((t1 & 0xfff) << 10);
  r[2] = (t1 >>> 12) | ((t2 & 0x3) << 20);
  r[3] = (t2 >>> 2) & MASK22;
  r[4] = (t2 >>> 24) | ((t3 & 0x3fff) << 8);
  r[5] = t3 >>> 14;
  pad[0] = block[4];
  pad[1] = block[5];
  pad[2] = block[6];
  pad[3] = block[7];
  h.fill(0);
}

/** The AEAD's MAC input: AD, zero pad, ciphertext, zero pad, both lengths as 64-bit little-endian. */
function polyAead(ad: Uint8Array, ciphertext: Uint8Array): void {
  polyPadded(ad);
  polyPadded(ciphertext);
  lastBlock.fill(0);
  writeLe32(lastBlock, 0, ad.length);
  writeLe32(lastBlock, 8, ciphertext.length);
  polyBlocks(lastBlock, 16);
}

/** Every 16-byte block of `data`, the last one zero-padded (the AEAD pads, so each block gets the 2^128 bit). */
function polyPadded(data: Uint8Array): void {
  const full = data.length & ~15;
  if (full > 0) polyBlocks(data, full);
  if (full === data.length) return;
  lastBlock.fill(0);
  lastBlock.set(data.subarray(full));
  polyBlocks(lastBlock, 16);
}

/**
 * h = (h + m) * r mod 2^130 - 5 for each 16-byte block m of data[0..length), partly reduced, with the state in
 * locals for the whole run. Limb k holds bits 22k..22k+21; a product landing at limb 6 + k is worth
 * 2^132 * 2^22k = 20 * 2^22k (mod p), hence the factor 20. Bounds: h limbs < 2^23 after the add, 20 r < 2^26.4,
 * so each sum of six products is below 2^52.
 */
function polyBlocks(data: Uint8Array, length: number): void {
  const r0 = r[0],
    r1 = r[1],
    r2 = r[2],
    r3 = r[3],
    r4 = r[4],
    r5 = r[5];
  const s1 = 20 * r1,
    s2 = 20 * r2,
    s3 = 20 * r3,
    s4 = 20 * r4,
    s5 = 20 * r5;
  let h0 = h[0],
    h1 = h[1],
    h2 = h[2],
    h3 = h[3],
    h4 = h[4],
    h5 = h[5];
  const view = wordView(data, 0, length);
  for (let at = 0; at < length; at += 16) {
    let t0, t1, t2, t3;
    if (view !== undefined) {
      const w = at >> 2;
      t0 = view[w];
      t1 = view[w + 1];
      t2 = view[w + 2];
      t3 = view[w + 3];
    } else {
      t0 = readLe32(data, at);
      t1 = readLe32(data, at + 4);
      t2 = readLe32(data, at + 8);
      t3 = readLe32(data, at + 12);
    }
    h0 += t0 & MASK22;
    h1 += (t0 >>> 22) | ((t1 & 0xfff) << 10);
    h2 += (t1 >>> 12) | ((t2 & 0x3) << 20);
    h3 += (t2 >>> 2) & MASK22;
    h4 += (t2 >>> 24) | ((t3 & 0x3fff) << 8);
    h5 += (t3 >>> 14) | (1 << 18);
    let d0 = h0 * r0 + h1 * s5 + h2 * s4 + h3 * s3 + h4 * s2 + h5 * s1;
    let d1 = h0 * r1 + h1 * r0 + h2 * s5 + h3 * s4 + h4 * s3 + h5 * s2;
    let d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s5 + h4 * s4 + h5 * s3;
    let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s5 + h5 * s4;
    let d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * s5;
    let d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0;
    let c = (d0 * INV22) | 0;
    d0 -= c * TWO22;
    d1 += c;
    c = (d1 * INV22) | 0;
    d1 -= c * TWO22;
    d2 += c;
    c = (d2 * INV22) | 0;
    d2 -= c * TWO22;
    d3 += c;
    c = (d3 * INV22) | 0;
    d3 -= c * TWO22;
    d4 += c;
    c = (d4 * INV22) | 0;
    d4 -= c * TWO22;
    d5 += c;
    c = (d5 * INV22) | 0;
    d5 -= c * TWO22;
    d0 += 20 * c;
    c = (d0 * INV22) | 0;
    d0 -= c * TWO22;
    d1 += c;
    h0 = d0;
    h1 = d1;
    h2 = d2;
    h3 = d3;
    h4 = d4;
    h5 = d5;
  }
  h[0] = h0;
  h[1] = h1;
  h[2] = h2;
  h[3] = h3;
  h[4] = h4;
  h[5] = h5;
}

/** Fully reduces h mod 2^130 - 5, adds s mod 2^128 and writes the 16-byte tag to out[offset..]. */
function polyFinish(out: Uint8Array, offset: number): void {
  let h0 = h[0],
    h1 = h[1],
    h2 = h[2],
    h3 = h[3],
    h4 = h[4],
    h5 = h[5];
  // Two passes: carry every limb below 2^22, then fold bits 130 and up (limb 5 from bit 20) as * 5.
  for (let pass = 0; pass < 2; pass++) {
    let c = Math.floor(h0 / TWO22);
    h0 -= c * TWO22;
    h1 += c;
    c = Math.floor(h1 / TWO22);
    h1 -= c * TWO22;
    h2 += c;
    c = Math.floor(h2 / TWO22);
    h2 -= c * TWO22;
    h3 += c;
    c = Math.floor(h3 / TWO22);
    h3 -= c * TWO22;
    h4 += c;
    c = Math.floor(h4 / TWO22);
    h4 -= c * TWO22;
    h5 += c;
    c = Math.floor(h5 / 1048576);
    h5 -= c * 1048576;
    h0 += 5 * c;
  }
  // Now h < 2^130 + small; h - p = h + 5 - 2^130. Keep it when it is not negative (bit 130 of h + 5 set).
  let g0 = h0 + 5;
  let c = Math.floor(g0 / TWO22);
  g0 -= c * TWO22;
  let g1 = h1 + c;
  c = Math.floor(g1 / TWO22);
  g1 -= c * TWO22;
  let g2 = h2 + c;
  c = Math.floor(g2 / TWO22);
  g2 -= c * TWO22;
  let g3 = h3 + c;
  c = Math.floor(g3 / TWO22);
  g3 -= c * TWO22;
  let g4 = h4 + c;
  c = Math.floor(g4 / TWO22);
  g4 -= c * TWO22;
  let g5 = h5 + c;
  const useG = Math.floor(g5 / 1048576); // 1 when h >= p, else 0
  g5 -= useG * 1048576;
  const keepH = 1 - useG;
  h0 = h0 * keepH + g0 * useG;
  h1 = h1 * keepH + g1 * useG;
  h2 = h2 * keepH + g2 * useG;
  h3 = h3 * keepH + g3 * useG;
  h4 = h4 * keepH + g4 * useG;
  h5 = h5 * keepH + g5 * useG;
  // Back to four 32-bit words (bits 128 and 129 fall off: the tag is mod 2^128), then + s.
  const w0 = (h0 | (h1 << 22)) >>> 0;
  const w1 = ((h1 >>> 10) | (h2 << 12)) >>> 0;
  const w2 = ((h2 >>> 20) | (h3 << 2) | (h4 << 24)) >>> 0;
  const w3 = ((h4 >>> 8) | (h5 << 14)) >>> 0;
  let f = w0 + pad[0];
  writeLe32(out, offset, f);
  f = w1 + pad[1] + Math.floor(f / 4294967296);
  writeLe32(out, offset + 4, f);
  f = w2 + pad[2] + Math.floor(f / 4294967296);
  writeLe32(out, offset + 8, f);
  f = w3 + pad[3] + Math.floor(f / 4294967296);
  writeLe32(out, offset + 12, f);
}

function readLe32(bytes: Uint8Array, at: number): number {
  return bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24);
}

/** Low 32 bits of a non-negative number below 2^53, little-endian. */
function writeLe32(out: Uint8Array, at: number, value: number): void {
  const low = value % 4294967296;
  out[at] = low & 0xff;
  out[at + 1] = (low >>> 8) & 0xff;
  out[at + 2] = (low >>> 16) & 0xff;
  out[at + 3] = (low >>> 24) & 0xff;
}
