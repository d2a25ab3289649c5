/**
 * Jump consistent hash (Lamping and Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm",
 * 2014, figure 1), bit-for-bit equal to the paper's C++ on a 64-bit key, without BigInt: the
 * 64-bit linear congruential step is done on two 32-bit halves.
 */

/** The LCG multiplier 2862933555777941757 split into 32-bit halves. */
const MULTIPLIER_HIGH = 0x27bb2ee6
const MULTIPLIER_LOW = 0x87b0b0fd

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers. */
function multiplyHigh (a: number, b: number): number {
  const a0 = a & 0xffff
  const a1 = a >>> 16
  const b0 = b & 0xffff
  const b1 = b >>> 16
  const p00 = a0 * b0
  const p01 = a0 * b1
  const p10 = a1 * b0
  const middle = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff)
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (middle >>> 16)) >>> 0
}

/**
 * The bucket in `[0, buckets)` of the 64-bit key `(keyHigh << 32) | keyLow`.
 * Returns -1 when `buckets` is 0.
 */
export function jumpHash (keyHigh: number, keyLow: number, buckets: number): number {
  let high = keyHigh >>> 0
  let low = keyLow >>> 0
  let bucket = -1
  let next = 0
  while (next < buckets) {
    bucket = next
    // key = key * 2862933555777941757 + 1 (mod 2^64)
    const productLow = Math.imul(low, MULTIPLIER_LOW) >>> 0
    const carry = productLow === 0xffffffff ? 1 : 0
    high = (Math.imul(high, MULTIPLIER_LOW) + Math.imul(low, MULTIPLIER_HIGH) + multiplyHigh(low, MULTIPLIER_LOW) + carry) >>> 0
    low = (productLow + 1) >>> 0
    // j = (b + 1) * (double(1 << 31) / double((key >> 33) + 1)), in doubles as the paper does.
    next = Math.floor((bucket + 1) * (2147483648 / ((high >>> 1) + 1)))
  }
  return bucket
}
