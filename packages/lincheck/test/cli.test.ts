import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runCli, type CliIo } from '../src/cli/run.js'

const staleRead = JSON.stringify([
  { client: 1, op: 'put', key: 'x', value: 1, call: 0, return: 10 },
  { client: 1, op: 'put', key: 'x', value: 2, call: 20, return: 30 },
  { client: 2, op: 'get', key: 'x', output: 1, call: 40, return: 50 }
])
const fine = JSON.stringify([
  { client: 1, op: 'put', key: 'x', value: 1, call: 0, return: 10 },
  { client: 2, op: 'get', key: 'x', output: 1, call: 20, return: 30 }
])
/** 22 concurrent writes and a read of a value none wrote: the search has to try every order. */
const hard = JSON.stringify([
  ...Array.from({ length: 22 }, (_, i) => ({ client: i, op: 'put', key: 'x', value: i, call: 0, return: 100 })),
  { client: 99, op: 'get', key: 'x', output: 'never written', call: 200, return: 300 }
])

async function run (argv: string[], input: string): Promise<{ code: number, stdout: string, stderr: string, files: Map<string, string> }> {
  let stdout = ''
  let stderr = ''
  const files = new Map<string, string>()
  const io: CliIo = {
    readInput: async (path) => {
      if (path !== undefined) throw new Error(`ENOENT: no such file, open '${path}'`)
      return input
    },
    stdout: (text) => { stdout += text },
    stderr: (text) => { stderr += text },
    writeFile: async (path, content) => { files.set(path, content) }
  }
  const code = await runCli(argv, io)
  return { code, stdout, stderr, files }
}

describe('synod-lincheck', () => {
  it('prints LINEARIZABLE and exits 0', async () => {
    const result = await run([], fine)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^LINEARIZABLE \(kv model, 2 operations, 1 key, 1 checked\)\n/)
  })

  it('prints NOT LINEARIZABLE with the explanation and exits 1', async () => {
    const result = await run(['--model', 'kv'], staleRead)
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/^NOT LINEARIZABLE/)
    expect(result.stdout).toContain('#2 client 2 [40ns, 50ns] get x -> 1')
    expect(result.stdout).toContain('read 1, but the key held 2')
  })

  it('prints only the verdict with --quiet', async () => {
    expect((await run(['--quiet'], staleRead)).stdout).toBe('NOT LINEARIZABLE (kv model, 3 operations, 1 key, 1 checked)\n')
  })

  it('writes an HTML timeline of the failing key with --html', async () => {
    const result = await run(['--html', 'out.html'], staleRead)
    const html = result.files.get('out.html')!
    expect(html).toContain('<svg')
    expect(html).toContain('get x -&gt; 1')
    expect(html.match(/<rect /g)).toHaveLength(3)
    expect(result.stdout).toContain('timeline written to out.html')
  })

  it('gives up at the time limit and exits 2', async () => {
    const result = await run(['--timeout-ms=30'], hard)
    expect(result.code).toBe(2)
    expect(result.stdout).toMatch(/^UNKNOWN/)
  })

  it('checks lock histories with --model lock', async () => {
    const overlapping = JSON.stringify([
      { client: 1, op: 'acquire', key: 'L', ok: true, output: 1, call: 0, return: 10 },
      { client: 2, op: 'acquire', key: 'L', ok: true, output: 2, call: 20, return: 30 }
    ])
    expect((await run(['--model', 'lock'], overlapping)).code).toBe(1)
    // The same file is malformed for the KV model.
    const asKv = await run([], overlapping)
    expect(asKv.code).toBe(3)
    expect(asKv.stderr).toContain('op 0: "op" is "acquire", which the kv model does not know')
  })

  it('exits 3 for malformed input, naming the bad operation and what is wrong', async () => {
    const bad = JSON.stringify([(JSON.parse(fine) as unknown[])[0], { client: 2, op: 'get', key: 'x', output: 1, call: 'soon', return: 30 }])
    const result = await run([], bad)
    expect(result.code).toBe(3)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe('synod-lincheck: malformed history: op 1: "call" must be a non-negative integer of nanoseconds, got "soon"\n')
    expect((await run([], 'not json')).stderr).toMatch(/^synod-lincheck: malformed history: history is not valid JSON/)
  })

  it('exits 64 for a bad command line', async () => {
    expect((await run(['--model', 'queue'], fine)).code).toBe(64)
    expect((await run(['--timeout-ms', 'soon'], fine)).stderr).toContain('--timeout-ms must be a non-negative integer, got soon')
    expect((await run(['--frobnicate'], fine)).stderr).toContain('unknown option --frobnicate')
    expect((await run(['missing.json'], fine)).stderr).toContain('cannot read missing.json')
  })

  it('works as a process: reads stdin and sets the exit status', () => {
    // One spawn only (it is slow); the other exit codes are covered in-process above.
    const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
    const result = spawnSync(process.execPath, ['--import', 'tsx', cli, '--quiet'], { input: staleRead, encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)) })
    expect(result.stdout).toBe('NOT LINEARIZABLE (kv model, 3 operations, 1 key, 1 checked)\n')
    expect(result.status).toBe(1)
  })
})
