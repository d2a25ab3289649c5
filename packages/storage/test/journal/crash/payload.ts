/** Groups the crash test's writer appends to. */
export const GROUPS = 4

/** The deterministic payload of entry `index` of `group` written in `term`, so a reader can verify every byte. */
export function groupCrashPayload (group: number, index: number, term: number): Uint8Array {
  const data = new Uint8Array(12 + ((index + group) % 40))
  for (let i = 0; i < data.length; i++) data[i] = (Math.imul(index, 2654435761) + group * 57 + term * 97 + i) & 0xff
  return data
}
