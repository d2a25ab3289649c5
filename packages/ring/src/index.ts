/**
 * @packageDocumentation
 *
 * Consistent-hashing sharding ring: vnode ring, jump, rendezvous, Maglev and bounded loads
 */
export {}
