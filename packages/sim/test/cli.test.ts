import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { exampleWorkloads, loadWorkloads, resolveFromDirectory, runSeed, runSimCli, type Workload } from '../src/index.js'
import { flaky, other } from './fixtures/workloads.js'

async function cli (workloads: readonly Workload[], argv: string[]): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await runSimCli({
    workloads,
    command: 'sim-test',
    stdout: { write: (text) => { out += text } },
    stderr: { write: (text) => { err += text }, isTTY: true }
  }, argv)
  return { code, out, err }
}

describe('runSimCli', () => {
  it('runs N seeds from S, reports each one, and prints a replay command for failures', async () => {
    const { code, out, err } = await cli([flaky, other], ['flaky', '--seeds', '4', '--from', '5', '--set', 'label=x y'])
    expect(code).toBe(1)
    expect(out).toContain('flaky: seeds 5..8 (4)')
    expect(out).toMatch(/seed 5 ok .*ticks=11/)
    expect(out).toMatch(/seed 7 ok /)
    expect(out).toContain('seed 6 FAILED at 1.0s: seed 6 is a multiple of 3 (x y)')
    expect(out).toContain("replay: sim-test flaky --seed 6 --set 'label=x y' --trace")
    expect(out).toContain('1 of 4 seeds FAILED')
    expect(out).toMatch(/last events:\n.*work +tick/)
    // The progress bar goes to the terminal, not into the results.
    expect(err).toContain('4/4')
    expect(out).not.toContain('[#')
  })

  it('replays a failing seed with its full trace, identical to the original run', async () => {
    const original = await runSeed(flaky, 6, { trace: { record: true }, settings: { label: 'x y' } })
    expect(original.ok).toBe(false)
    const { code, out } = await cli([flaky], ['flaky', '--seed', '6', '--set', 'label=x y', '--trace'])
    expect(code).toBe(1)
    const traceLines = out.split('\n').filter((line) => line.startsWith('['))
    expect(traceLines.join('\n')).toBe(original.trace)
    expect(out).toContain(`digest ${original.digest}`)
    expect(out).toContain('seed 6 FAILED')
  })

  it('passes with exit status 0 and honours --duration and --quiet', async () => {
    const { code, out } = await cli([flaky], ['--seeds', '2', '--from', '1', '--duration', '500', '--quiet'])
    expect(code).toBe(0)
    expect(out).not.toContain('seed 1 ok')
    expect(out).toContain('all 2 seeds passed')
    const single = await cli([flaky], ['--seed', '1', '--duration', '500', '--trace'])
    expect(single.out).toMatch(/seed 1 ok: 500\.0ms simulated/)
  })

  it('stops at the first failure with --fail-fast', async () => {
    const { code, out } = await cli([flaky], ['flaky', '--seeds', '10', '--fail-fast'])
    expect(code).toBe(1)
    expect(out).toContain('1 of 1 seeds FAILED')
  })

  it('reports usage errors with exit status 2', async () => {
    expect((await cli([flaky, other], ['--seeds', '2'])).code).toBe(2)
    expect((await cli([flaky], ['nope'])).err).toContain("unknown workload 'nope'; known: flaky")
    expect((await cli([flaky], ['--seeds', 'ten'])).code).toBe(2)
    expect((await cli([flaky], ['--seed', '1', '--seeds', '2'])).code).toBe(2)
    expect((await cli([flaky], ['--trace'])).code).toBe(2)
    expect((await cli([flaky], ['--bogus'])).code).toBe(2)
    const list = await cli([flaky, other], ['--list'])
    expect(list.code).toBe(0)
    expect(list.out).toMatch(/flaky +fails on multiples of 3/)
  })
})

describe('example workloads', () => {
  it('register converges under faults; register-naive fails on some seeds, and the failure replays', async () => {
    const register = exampleWorkloads.find((w) => w.name === 'register')!
    const naive = exampleWorkloads.find((w) => w.name === 'register-naive')!
    const passing = await cli([register], ['--seeds', '3', '--duration', '5000'])
    expect(passing.out).toContain('all 3 seeds passed')
    const failing = await cli([naive], ['--seeds', '4', '--duration', '5000', '--quiet'])
    expect(failing.code).toBe(1)
    const seed = Number(/seed (\d+) FAILED/.exec(failing.out)?.[1])
    const first = await runSeed(naive, seed, { duration: 5000 })
    const again = await runSeed(naive, seed, { duration: 5000 })
    expect(first.ok).toBe(false)
    expect(first.error).toMatch(/replicas diverged|was lost/)
    expect(again.digest).toBe(first.digest)
    expect(again.error).toBe(first.error)
  })
})

describe('loadWorkloads', () => {
  const here = fileURLToPath(new URL('.', import.meta.url))

  it('loads every workload a module exports, or the one named after #', async () => {
    const all = await loadWorkloads('./fixtures/workloads.ts', here)
    expect(all.workloads.map((w) => w.name).sort()).toEqual(['flaky', 'other'])
    expect(all.name).toBeUndefined()
    const named = await loadWorkloads('./fixtures/workloads.ts#flaky', here)
    expect(named.name).toBe('flaky')
  })

  it('resolves bare specifiers through node_modules and exports maps', () => {
    expect(resolveFromDirectory('@synod/interfaces', here)).toMatch(/packages\/interfaces\/dist\/index\.js$|node_modules\/@synod\/interfaces\/dist\/index\.js$/)
    expect(resolveFromDirectory('@synod/sim', here)).toMatch(/\/dist\/index\.js$/)
    expect(() => resolveFromDirectory('@synod/does-not-exist', here)).toThrow(expect.objectContaining({ code: 'ERR_NOT_FOUND' }))
    expect(() => resolveFromDirectory('@synod/sim/nope', here)).toThrow(expect.objectContaining({ code: 'ERR_NOT_FOUND' }))
  })
})
