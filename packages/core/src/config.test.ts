import { describe, expect, it } from 'vitest'
import { loadConfig } from './config.ts'

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({})
    expect(c.port).toBe(8787)
    expect(c.heartbeatMs).toBe(15_000)
    expect(c.maxTopicsPerConnection).toBe(64)
    expect(c.maxBodyBytes).toBe(1_048_576)
    expect(c.redisUrl).toBeUndefined()
    expect(c.generatedKey).toBe(true)
    expect(c.apiKeys).toHaveLength(1)
    expect(c.apiKeys[0]).toMatch(/^sk_[0-9a-f]{48}$/)
  })

  it('listens on loopback only unless HOST says otherwise', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1')
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0')
  })

  it('bounds every stage of a request, and limits nothing per address by default', () => {
    const c = loadConfig({})
    expect(c.timeouts).toEqual({
      headersMs: 10_000,
      bodyMs: 30_000,
      keepAliveMs: 65_000,
      wsHandshakeMs: 10_000,
    })
    expect(c.maxConnectionsPerIp).toBe(0)
    expect(loadConfig({ BODY_TIMEOUT_MS: '5000' }).timeouts.bodyMs).toBe(5000)
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '0' })).toThrow(
      'HEADERS_TIMEOUT_MS="0" is invalid: expected an integer from 1000 to 600000',
    )
  })

  it('reads several API keys at once, for rotation', () => {
    const c = loadConfig({ API_KEYS: ' old , new,,' })
    expect(c.apiKeys).toEqual(['old', 'new'])
    expect(c.generatedKey).toBe(false)
  })

  it('names the variable and the valid range of a bad value', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(
      'PORT="eighty" is invalid: expected an integer from 0 to 65535',
    )
    expect(() => loadConfig({ HEARTBEAT_MS: '10' })).toThrow(/HEARTBEAT_MS/)
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/)
  })

  it('forwards between cluster nodes over HTTP unless told otherwise', () => {
    expect(loadConfig({}).clusterForward).toBe('http')
    expect(loadConfig({ CLUSTER_FORWARD: 'REDIS' }).clusterForward).toBe('redis')
    expect(() => loadConfig({ CLUSTER_FORWARD: 'carrier-pigeon' })).toThrow(
      'CLUSTER_FORWARD="carrier-pigeon" is invalid: use http or redis',
    )
  })

  it('switches to cluster mode when REDIS_URL is set', () => {
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl).toBe(
      'redis://127.0.0.1:6379',
    )
  })
})
