/** The error `promise` rejects with; a test fails if it resolves instead. */
export async function failure (promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise
  } catch (error) {
    return error as Record<string, unknown>
  }
  throw new Error('expected a rejection')
}
