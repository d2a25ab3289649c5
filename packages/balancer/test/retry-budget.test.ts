import { describe, expect, it } from 'vitest'
import { createRetryBudget, createVirtualClock } from '../src/index.js'
import { ids, setup } from './helpers.js'

describe('retry budget', () => {
  it('allows the reserve plus a share of recent requests', () => {
    const clock = createVirtualClock()
    const budget = createRetryBudget({ retryRatio: 0.2, minRetriesPerSecond: 1, windowMs: 10_000 }, { clock })
    expect(budget.balance()).toBe(10)
    for (let i = 0; i < 100; i++) budget.deposit()
    expect(budget.balance()).toBe(30)
    let granted = 0
    while (budget.tryWithdraw()) granted++
    expect(granted).toBe(30)
    expect(budget.balance()).toBe(0)
  })

  it('forgets requests and retries older than the window', () => {
    const clock = createVirtualClock()
    const budget = createRetryBudget({ retryRatio: 0.5, minRetriesPerSecond: 0, windowMs: 1000 }, { clock })
    for (let i = 0; i < 10; i++) budget.deposit()
    expect(budget.balance()).toBe(5)
    while (budget.tryWithdraw());
    clock.advance(500)
    expect(budget.balance()).toBe(0)
    clock.advance(600)
    expect(budget.balance()).toBe(0)
    for (let i = 0; i < 4; i++) budget.deposit()
    expect(budget.balance()).toBe(2)
  })

  it('caps retries of run() when every endpoint fails', async () => {
    const { balancer } = setup({
      policy: 'round-robin', endpoints: ids(5), outlierDetection: false,
      retryBudget: { retryRatio: 0.1, minRetriesPerSecond: 0, windowMs: 10_000 }
    })
    let attempts = 0
    for (let i = 0; i < 100; i++) {
      await balancer.run(async () => { attempts++; throw new Error('down') }, { maxAttempts: 3 }).catch(() => {})
    }
    // 100 requests; without a budget there would be 300 attempts, with 10% there are about 110.
    expect(attempts).toBeGreaterThanOrEqual(100)
    expect(attempts).toBeLessThanOrEqual(110)
  })
})
