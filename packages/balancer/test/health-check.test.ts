import { describe, expect, it } from 'vitest'
import type { Endpoint } from '../src/index.js'
import { advance, ids, setup, settle, tally } from './helpers.js'

describe('active health checks', () => {
  function withProbe (healthyNow: (endpoint: Endpoint) => boolean | 'hang' | 'throw') {
    const probed: string[] = []
    const context = setup({
      policy: 'round-robin',
      endpoints: ids(3),
      slowStart: { windowMs: 10_000 },
      healthCheck: {
        intervalMs: 1000, timeoutMs: 200, unhealthyThreshold: 2, healthyThreshold: 2, jitterShare: 0,
        probe: async (endpoint, { signal }) => {
          probed.push(endpoint.id)
          const verdict = healthyNow(endpoint)
          if (verdict === 'throw') throw new Error('connection refused')
          if (verdict === 'hang') {
            return new Promise<boolean>((resolve) => { signal?.addEventListener('abort', () => { resolve(true) }) })
          }
          return verdict
        }
      }
    })
    return { ...context, probed }
  }

  it('does nothing until started, then probes every endpoint each interval', async () => {
    const { balancer, clock, probed } = withProbe(() => true)
    await advance(clock, 5000)
    expect(probed).toEqual([])
    await balancer.start()
    await advance(clock, 2100)
    expect(probed.filter((id) => id === 'e0')).toHaveLength(3)
    await balancer.stop()
    const count = probed.length
    await advance(clock, 5000)
    expect(probed).toHaveLength(count)
    expect(clock.pendingTimers).toBe(0)
  })

  it('marks an endpoint unhealthy after the threshold of failed probes and routes around it', async () => {
    let broken = false
    const { balancer, clock } = withProbe((endpoint) => endpoint.id === 'e1' && broken ? 'throw' : true)
    const events: string[] = []
    balancer.addEventListener('endpoint:unhealthy', (event) => events.push(`down ${event.detail.id}`))
    balancer.addEventListener('endpoint:healthy', (event) => events.push(`up ${event.detail.id}`))
    await balancer.start()
    await advance(clock, 1000)
    broken = true
    await advance(clock, 1000)
    expect(events).toEqual([])
    await advance(clock, 1000)
    expect(events).toEqual(['down e1'])
    expect(tally(balancer, 30).has('e1')).toBe(false)
    broken = false
    await advance(clock, 2000)
    expect(events).toEqual(['down e1', 'up e1'])
    // Recovered endpoints warm up.
    expect(balancer.endpoints().find((endpoint) => endpoint.id === 'e1')!.slowStartFactor).toBeLessThan(1)
    await balancer.stop()
  })

  it('fails a probe that exceeds its timeout and aborts it', async () => {
    const { balancer, clock } = withProbe((endpoint) => endpoint.id === 'e2' ? 'hang' : true)
    await balancer.start()
    await advance(clock, 2500)
    expect(balancer.endpoints().find((endpoint) => endpoint.id === 'e2')!.healthy).toBe(false)
    await balancer.stop()
  })

  it('treats a probe resolving false as a failure', async () => {
    const { balancer, clock } = withProbe((endpoint) => endpoint.id !== 'e0')
    await balancer.start()
    await advance(clock, 1500)
    expect(balancer.endpoints().map((endpoint) => endpoint.healthy)).toEqual([false, true, true])
    await balancer.stop()
  })

  it('probes endpoints added at runtime and stops probing removed ones', async () => {
    const { balancer, clock, probed } = withProbe(() => true)
    await balancer.start()
    balancer.add({ id: 'late' })
    balancer.remove('e0')
    await settle()
    probed.length = 0
    await advance(clock, 3000)
    expect(probed).toContain('late')
    expect(probed).not.toContain('e0')
    await balancer.stop()
  })

  it('routes to every endpoint (panic mode) when too few are healthy', async () => {
    const { balancer, clock } = withProbe((endpoint) => endpoint.id === 'e0')
    await balancer.start()
    await advance(clock, 1500)
    expect(balancer.endpoints().filter((endpoint) => endpoint.healthy)).toHaveLength(1)
    expect(tally(balancer, 30).size).toBe(3)
    await balancer.stop()
  })
})
