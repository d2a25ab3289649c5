/** Options for `addEventListener`. */
export interface ListenerOptions {
  /** Remove the listener after its first call. */
  once?: boolean
  /** Remove the listener when this signal aborts. */
  signal?: AbortSignal
}

/** A listener for one event type; receives a `CustomEvent` whose `detail` has the mapped type. */
export type TypedListener<Detail> = (event: CustomEvent<Detail>) => void

/**
 * A typed event target (libp2p's TypedEventTarget). Event maps live next to each contract.
 */
export interface TypedEventTarget<EventMap extends object> {
  addEventListener<K extends keyof EventMap & string>(type: K, listener: TypedListener<EventMap[K]>, options?: ListenerOptions): void
  removeEventListener<K extends keyof EventMap & string>(type: K, listener: TypedListener<EventMap[K]>): void
}

/**
 * The one runtime event helper: a typed wrapper over the platform EventTarget with a
 * `safeDispatch` that wraps the detail in a CustomEvent. Implementations extend it.
 */
export class TypedEventEmitter<EventMap extends object> implements TypedEventTarget<EventMap> {
  readonly #target = new EventTarget()

  addEventListener<K extends keyof EventMap & string>(type: K, listener: TypedListener<EventMap[K]>, options?: ListenerOptions): void {
    this.#target.addEventListener(type, listener as (event: Event) => void, options)
  }

  removeEventListener<K extends keyof EventMap & string>(type: K, listener: TypedListener<EventMap[K]>): void {
    this.#target.removeEventListener(type, listener as (event: Event) => void)
  }

  /** Dispatches `detail` to the listeners of `type`. Listeners must not throw. */
  safeDispatch<K extends keyof EventMap & string>(type: K, detail: EventMap[K]): void {
    this.#target.dispatchEvent(new CustomEvent(type, { detail }))
  }
}
