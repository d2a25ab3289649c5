/**
 * @packageDocumentation
 *
 * Load-balancing policies with health checks, outlier ejection, slow start and retry budgets
 */
export {}
