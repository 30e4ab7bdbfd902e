/**
 * The scan's request rate shared by every worker: one Redis key holds the time of the next free request slot
 * (microseconds, Redis's own clock, so workers' clocks do not matter). Each request reserves the next slot in one
 * atomic script call and waits until it comes: at most `perSecond` requests per second over all workers together,
 * evenly spaced (the same rule as the in-process limiter, src/observe/rateLimiter.ts).
 */
import type { Redis } from "ioredis";

// KEYS[1]: the slot key. ARGV[1]: microseconds between requests. Returns microseconds to wait.
const RESERVE_SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local nextFree = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(now, nextFree)
redis.call('SET', KEYS[1], string.format('%.0f', at + interval), 'PX', 60000)
return string.format('%.0f', at - now)
`;

export function redisRateLimiter(redis: Redis, key: string, perSecond: number): () => Promise<void> {
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) return () => Promise.resolve();
  const interval = Math.max(1, Math.round(1_000_000 / perSecond));
  return async () => {
    const waitUs = Number(await redis.eval(RESERVE_SLOT, 1, key, String(interval)));
    if (waitUs >= 1000) await new Promise((resolve) => setTimeout(resolve, waitUs / 1000));
  };
}
