/**
 * @packageDocumentation
 *
 * Deterministic simulation of Synod clusters: seeded time, network, disk and faults
 */
export {}
