import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { POLICY_NAMES, type PickHandle } from '../src/index.js'
import { ids, setup } from './helpers.js'

const totalInFlight = (snapshot: Array<{ inFlight: number }>): number => snapshot.reduce((sum, endpoint) => sum + endpoint.inFlight, 0)

describe('pick handles', () => {
  it('count a request in flight until completed, and only once', () => {
    const { balancer } = setup({ policy: 'p2c-peak-ewma', endpoints: ids(3) })
    const handle = balancer.pick()
    expect(totalInFlight(balancer.endpoints())).toBe(1)
    expect(handle.completed).toBe(false)
    handle.complete('failure')
    handle.complete('failure')
    handle.complete('success')
    expect(handle.completed).toBe(true)
    expect(totalInFlight(balancer.endpoints())).toBe(0)
    expect(balancer.endpoints().reduce((sum, endpoint) => sum + endpoint.completed, 0)).toBe(1)
  })

  it('cancelled requests release the slot without counting as failures', () => {
    const { balancer } = setup({ policy: 'round-robin', endpoints: ids(1), outlierDetection: { consecutiveFailures: 1 } })
    for (let i = 0; i < 10; i++) balancer.pick().complete('cancelled')
    const [endpoint] = balancer.endpoints()
    expect(endpoint).toMatchObject({ inFlight: 0, failures: 0, completed: 0, ejected: false })
  })

  it('in-flight counts equal open handles under any interleaving of picks, completions and membership changes (property)', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('pick' as const) }),
      fc.record({ kind: fc.constant('complete' as const), index: fc.nat(), outcome: fc.constantFrom<'success' | 'failure' | 'cancelled'>('success', 'failure', 'cancelled') }),
      fc.record({ kind: fc.constant('remove' as const), index: fc.nat() }),
      fc.record({ kind: fc.constant('add' as const) })
    )
    fc.assert(fc.property(fc.constantFrom(...POLICY_NAMES), fc.array(step, { maxLength: 120 }), (policy, steps) => {
      const { balancer } = setup({ policy, endpoints: ids(4) })
      const handles: PickHandle[] = []
      let added = 0
      for (const action of steps) {
        if (action.kind === 'pick') {
          if (balancer.endpoints().length > 0) handles.push(balancer.pick())
        } else if (action.kind === 'complete' && handles.length > 0) {
          // Completing an already completed handle again must be harmless.
          handles[action.index % handles.length]!.complete(action.outcome)
        } else if (action.kind === 'remove') {
          const current = balancer.endpoints()
          if (current.length > 0) balancer.remove(current[action.index % current.length]!.id)
        } else if (action.kind === 'add') {
          balancer.add({ id: `added-${added++}` })
        }
        const live = new Set(balancer.endpoints().map((endpoint) => endpoint.id))
        const open = handles.filter((handle) => !handle.completed && live.has(handle.endpoint.id)).length
        expect(totalInFlight(balancer.endpoints())).toBe(open)
      }
    }), { numRuns: 150 })
  })
})

describe('run', () => {
  it('completes the handle on success and on failure', async () => {
    const { balancer } = setup({ policy: 'least-request', endpoints: ids(2) })
    await expect(balancer.run(async (endpoint) => endpoint.id)).resolves.toMatch(/^e[01]$/)
    await expect(balancer.run(async () => { throw new Error('boom') })).rejects.toThrow('boom')
    await expect(balancer.run(() => { throw new Error('sync boom') })).rejects.toThrow('sync boom')
    const snapshot = balancer.endpoints()
    expect(totalInFlight(snapshot)).toBe(0)
    expect(snapshot.reduce((sum, endpoint) => sum + endpoint.failures, 0)).toBe(2)
  })

  it('rejects with ERR_ABORTED when the signal fires, releasing the slot at once', async () => {
    const { balancer } = setup({ policy: 'least-request', endpoints: ids(2) })
    const controller = new AbortController()
    let seenSignal: AbortSignal | undefined
    const pending = balancer.run(async (_endpoint, { signal }) => {
      seenSignal = signal
      return new Promise<never>(() => {})
    }, { signal: controller.signal })
    expect(totalInFlight(balancer.endpoints())).toBe(1)
    controller.abort(new Error('caller gave up'))
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    expect(seenSignal?.aborted).toBe(true)
    expect(totalInFlight(balancer.endpoints())).toBe(0)
    expect(balancer.endpoints().reduce((sum, endpoint) => sum + endpoint.failures, 0)).toBe(0)
  })

  it('rejects at once with ERR_ABORTED when the signal has already fired', async () => {
    const { balancer } = setup({ policy: 'round-robin', endpoints: ids(2) })
    let called = false
    await expect(balancer.run(async () => { called = true }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    expect(called).toBe(false)
  })

  it('retries on an endpoint not yet tried', async () => {
    const { balancer } = setup({ policy: 'round-robin', endpoints: ids(3) })
    const tried: string[] = []
    const value = await balancer.run(async (endpoint, { attempt }) => {
      tried.push(endpoint.id)
      if (attempt < 3) throw new Error('unavailable')
      return 'ok'
    }, { maxAttempts: 3 })
    expect(value).toBe('ok')
    expect(new Set(tried).size).toBe(3)
  })

  it('does not retry errors the caller says are not the endpoint\'s fault, nor count them as failures', async () => {
    const { balancer } = setup({ policy: 'round-robin', endpoints: ids(3), isFailure: (error) => (error as Error).message !== 'not found' })
    let attempts = 0
    await expect(balancer.run(async () => { attempts++; throw new Error('not found') }, { maxAttempts: 3 })).rejects.toThrow('not found')
    expect(attempts).toBe(1)
    expect(balancer.endpoints().reduce((sum, endpoint) => sum + endpoint.failures, 0)).toBe(0)
  })

  it('throws ERR_NO_ENDPOINT when there is nothing to pick', async () => {
    const { balancer } = setup({ policy: 'round-robin' })
    expect(() => balancer.pick()).toThrow(expect.objectContaining({ code: 'ERR_NO_ENDPOINT' }))
    await expect(balancer.run(async () => 1)).rejects.toMatchObject({ code: 'ERR_NO_ENDPOINT' })
  })
})
