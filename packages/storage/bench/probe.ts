import { createFileLogStorage } from '../src/index.js'
import { mkdtempSync } from 'node:fs'
for (const prealloc of [true, false]) {
  const dir = mkdtempSync('/tmp/logprobe-')
  const log = createFileLogStorage({ dir, segmentBytes: 16 * 1024, preallocate: prealloc })
  await log.start()
  const t = performance.now()
  for (let i = 1; i <= 300; i++) await log.append([{ index: i, term: 1, type: 'command', data: new Uint8Array(40) }])
  console.log('prealloc', prealloc, 'us/append', ((performance.now() - t) / 300 * 1000).toFixed(0))
  await log.stop()
}
