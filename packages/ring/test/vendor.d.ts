// Minimal typings of the untyped comparison packages used by the tests and the benchmark.

declare module 'hashring' {
  class HashRing {
    constructor (servers?: string[] | Record<string, number | { weight?: number, vnodes?: number }>, algorithm?: string, options?: Record<string, unknown>)
    get (key: string): string | undefined
    range (key: string, size?: number, unique?: boolean): string[]
    add (servers: string | string[] | Record<string, number>): this
    remove (server: string): this
  }
  export default HashRing
}

declare module 'consistent-hash' {
  class ConsistentHash {
    constructor (options?: { range?: number, weight?: number, distribution?: 'random' | 'uniform' })
    add (node: string, weight?: number): this
    remove (node: string): this
    get (key: string): string | undefined
  }
  export default ConsistentHash
}
