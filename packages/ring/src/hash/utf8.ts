/**
 * UTF-8 encoding into a reusable scratch buffer, so hashing a string key allocates nothing once
 * the buffer is large enough. Lone surrogates become U+FFFD, exactly as `TextEncoder` does, so a
 * string and its `TextEncoder` bytes always hash the same.
 *
 * Not re-entrant by design: callers encode and hash synchronously, before anything else can
 * reuse the buffer.
 */

let scratch = new Uint8Array(256)

/** The scratch buffer filled by the last {@link encodeUtf8} call. */
export function utf8Scratch (): Uint8Array {
  return scratch
}

/** Encodes `text` as UTF-8 into the scratch buffer and returns the byte length. */
export function encodeUtf8 (text: string): number {
  const units = text.length
  // One UTF-16 unit never needs more than 3 bytes (a surrogate pair: 4 bytes for 2 units).
  if (units * 3 > scratch.length) scratch = new Uint8Array(Math.max(units * 3, scratch.length * 2))
  const out = scratch
  let position = 0
  for (let i = 0; i < units; i++) {
    let code = text.charCodeAt(i)
    if (code < 0x80) {
      out[position++] = code
      continue
    }
    if (code < 0x800) {
      out[position++] = 0xc0 | (code >>> 6)
      out[position++] = 0x80 | (code & 0x3f)
      continue
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = i + 1 < units ? text.charCodeAt(i + 1) : 0
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00)
        i++
        out[position++] = 0xf0 | (code >>> 18)
        out[position++] = 0x80 | ((code >>> 12) & 0x3f)
        out[position++] = 0x80 | ((code >>> 6) & 0x3f)
        out[position++] = 0x80 | (code & 0x3f)
        continue
      }
      code = 0xfffd
    }
    out[position++] = 0xe0 | (code >>> 12)
    out[position++] = 0x80 | ((code >>> 6) & 0x3f)
    out[position++] = 0x80 | (code & 0x3f)
  }
  return position
}
