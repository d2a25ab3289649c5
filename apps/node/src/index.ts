/**
 * @packageDocumentation
 *
 * The reference Synod node: a replicated key-value and lock service, CLI synod
 */
export {}
