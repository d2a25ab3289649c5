/** The deterministic payload of entry `index` written in `term`, so a reader can verify every byte. */
export function crashPayload (index: number, term: number): Uint8Array {
  const data = new Uint8Array(16 + (index % 48))
  for (let i = 0; i < data.length; i++) data[i] = (Math.imul(index, 2654435761) + term * 97 + i) & 0xff
  return data
}
