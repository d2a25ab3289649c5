/** Awaits a promise that must reject and returns what it rejected with, to assert on its fields (`code`, ...). */
export async function failure (promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise
  } catch (error) {
    return error as Record<string, unknown>
  }
  throw new Error('expected a rejection')
}
