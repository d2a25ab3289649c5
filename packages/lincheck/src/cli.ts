#!/usr/bin/env node
// The `synod-lincheck` command. All logic lives in cli/run.ts; this file only wires the process in.
import { readFile, writeFile } from 'node:fs/promises'
import { runCli } from './cli/run.js'

async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

try {
  process.exitCode = await runCli(process.argv.slice(2), {
    readInput: async (path) => path === undefined ? await readStdin() : await readFile(path, 'utf8'),
    stdout: (text) => { process.stdout.write(text) },
    stderr: (text) => { process.stderr.write(text) },
    writeFile: async (path, content) => { await writeFile(path, content, 'utf8') }
  })
} catch (err) {
  // An internal error must not exit 1, which would read as "not linearizable".
  process.stderr.write(`synod-lincheck: internal error: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 70
}
