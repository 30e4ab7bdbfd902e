/** A global request rate: each caller waits for its slot. 0 or Infinity means no limit. */
export function rateLimiter(perSecond: number): () => Promise<void> {
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) return () => Promise.resolve();
  const interval = 1000 / perSecond;
  let next = 0;
  return () => {
    const now = performance.now();
    const at = Math.max(now, next);
    next = at + interval;
    const wait = at - now;
    return wait < 1 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, wait));
  };
}
