import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react'
import { ApiError, apiRequest, type RequestOptions } from './api'

/** The logged-in state is the key itself, kept in localStorage so it survives a reload. */
const STORAGE_KEY = 'sse-gateway-admin:api-key'

interface AuthState {
  key: string | null
  /** Why the user was sent back to the login page (a 401 after login), shown there. */
  notice: string | null
  login(key: string): void
  logout(notice?: string): void
  /** An admin API call with the key; a 401 logs out before the error reaches the caller. */
  request<T>(path: string, init?: RequestOptions): Promise<T>
}

const AuthContext = createContext<AuthState | null>(null)

function readStoredKey(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY)
  } catch {
    return null // storage disabled (private mode in some browsers): login lasts for the page
  }
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [key, setKey] = useState<string | null>(readStoredKey)
  const [notice, setNotice] = useState<string | null>(null)

  const login = useCallback((k: string) => {
    try {
      localStorage.setItem(STORAGE_KEY, k)
    } catch {}
    setNotice(null)
    setKey(k)
  }, [])

  const logout = useCallback((why?: string) => {
    try {
      localStorage.removeItem(STORAGE_KEY)
    } catch {}
    setNotice(why ?? null)
    setKey(null)
  }, [])

  const request = useCallback(
    async <T,>(path: string, init?: RequestOptions): Promise<T> => {
      if (!key) throw new ApiError(401, 'not signed in')
      try {
        return await apiRequest<T>(key, path, init)
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) {
          logout('The gateway no longer accepts the saved key. Sign in again.')
        }
        throw err
      }
    },
    [key, logout],
  )

  const value = useMemo(
    () => ({ key, notice, login, logout, request }),
    [key, notice, login, logout, request],
  )
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>
}

export function useAuth(): AuthState {
  const auth = useContext(AuthContext)
  if (!auth) throw new Error('useAuth outside <AuthProvider>')
  return auth
}
