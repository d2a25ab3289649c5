import { describe, expect, it } from 'vitest'
import { withCapabilities } from '../src/index.js'

describe('withCapabilities', () => {
  it('keeps claimed flags and fills the rest from defaults', () => {
    const caps = withCapabilities<{ durable: boolean, crash: boolean }>({ durable: true }, { durable: false, crash: false })
    expect(caps).toEqual({ durable: true, crash: false })
  })

  it('uses the defaults when nothing is claimed', () => {
    expect(withCapabilities(undefined, { abort: true })).toEqual({ abort: true })
  })
})
