/**
 * Reads `read()` until `done` accepts its value (errors count as not yet), every `intervalMs`,
 * and fails after `timeoutMs` with `what` and the last value or error seen.
 */
export async function eventually<T> (read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    let last: unknown
    try {
      const value = await read()
      if (done(value)) return value
      last = value
    } catch (error) {
      last = String(error)
    }
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
