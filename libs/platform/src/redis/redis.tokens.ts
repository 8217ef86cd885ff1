/** Injection token of the shared ioredis client (`Redis | null`: null when REDIS_URL is unset). */
export const REDIS_CLIENT = Symbol('kadfleet:REDIS_CLIENT');
/** Injection token of the RedisConnection wrapper (`RedisConnection | null`). */
export const REDIS_CONNECTION = Symbol('kadfleet:REDIS_CONNECTION');
