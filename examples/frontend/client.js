// tower-simplejwt frontend client: the simplejwt guide's interceptor, done right.
//
// - attaches the access token (header mode) or relies on HttpOnly cookies (cookie mode,
//   the server's --cookies: the login and refresh answers then carry no token in their
//   bodies, only in cookies no script can read, so this client stores nothing);
// - on a 401 whose body has code "token_not_valid", refreshes once — concurrent
//   failing requests wait for the same refresh (single flight, no refresh storm) —
//   then retries the original request once; it never loops;
// - when the refresh fails, calls onLogout.
//
// No dependencies: works with `fetch`, and with axios through `attachAxios`.

const ACCESS = 'tower-simplejwt.access';
const REFRESH = 'tower-simplejwt.refresh';

/** A store for the tokens in header mode (localStorage by default). */
export function memoryStorage() {
  const values = new Map();
  return {
    getItem: (key) => (values.has(key) ? values.get(key) : null),
    setItem: (key, value) => values.set(key, String(value)),
    removeItem: (key) => values.delete(key),
  };
}

/**
 * @param {object} options
 * @param {string} [options.baseUrl] prefix of every path ('' for the same origin)
 * @param {'header'|'cookie'} [options.mode] where the tokens live
 * @param {{getItem, setItem, removeItem}} [options.storage] header mode's token store
 * @param {() => void} [options.onLogout] called when the session cannot be refreshed
 * @param {typeof fetch} [options.fetch]
 * @param {object} [options.paths] the token endpoints, if not simplejwt's defaults
 */
export function createAuthClient(options = {}) {
  const baseUrl = options.baseUrl ?? '';
  const mode = options.mode ?? 'header';
  const storage = options.storage ?? globalThis.localStorage ?? memoryStorage();
  const onLogout = options.onLogout ?? (() => {});
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const paths = {
    obtain: '/api/token/',
    refresh: '/api/token/refresh/',
    blacklist: '/api/token/blacklist/',
    ...options.paths,
  };
  let refreshing = null;
  // Counts completed refreshes: a request sent before the latest one retries
  // with the new tokens instead of refreshing again (HttpOnly cookies cannot
  // be compared, so this works in both modes).
  let generation = 0;

  const credentials = mode === 'cookie' ? 'include' : 'same-origin';
  const access = () => storage.getItem(ACCESS);
  const refresh = () => storage.getItem(REFRESH);

  // Cookie mode: the bodies carry no refresh token (and an access token only when the
  // server is configured to put it there); the cookies are the browser's business.
  function store(tokens) {
    if (mode !== 'header') return;
    if (tokens.access) storage.setItem(ACCESS, tokens.access);
    if (tokens.refresh) storage.setItem(REFRESH, tokens.refresh);
  }

  function clear() {
    storage.removeItem(ACCESS);
    storage.removeItem(REFRESH);
  }

  function postJson(path, body) {
    return fetchImpl(baseUrl + path, {
      method: 'POST',
      credentials,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  async function login(username, password) {
    const response = await postJson(paths.obtain, { username, password });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(body.detail ?? `login failed (${response.status})`);
      error.status = response.status;
      error.body = body;
      throw error;
    }
    store(body);
    return body;
  }

  /** One refresh at a time: every caller waits for the same one. */
  function refreshOnce() {
    if (!refreshing) {
      refreshing = (async () => {
        const body = mode === 'header' ? { refresh: refresh() } : {};
        if (mode === 'header' && !body.refresh) throw new Error('no refresh token');
        const response = await postJson(paths.refresh, body);
        if (!response.ok) throw new Error(`refresh failed (${response.status})`);
        store(await response.json());
        generation += 1;
      })().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  function endSession() {
    clear();
    onLogout();
  }

  function withAuth(init = {}) {
    const headers = new Headers(init.headers ?? {});
    if (mode === 'header' && access()) headers.set('Authorization', `Bearer ${access()}`);
    return { ...init, headers, credentials };
  }

  async function isExpiredToken(response) {
    if (response.status !== 401) return false;
    const body = await response.clone().json().catch(() => ({}));
    return body.code === 'token_not_valid';
  }

  /** `fetch` with the access token, one refresh and one retry on an expired token. */
  async function request(path, init = {}) {
    const sentAt = generation;
    const response = await fetchImpl(baseUrl + path, withAuth(init));
    if (!(await isExpiredToken(response))) return response;
    try {
      // Another request may have refreshed already while this one was in flight.
      if (generation === sentAt) await refreshOnce();
    } catch {
      endSession();
      return response;
    }
    return fetchImpl(baseUrl + path, withAuth(init));
  }

  /** The same policy as axios interceptors on `instance`. */
  function attachAxios(instance) {
    instance.interceptors.request.use((config) => {
      config._towerSimplejwtGeneration = generation;
      if (mode === 'header' && access()) {
        config.headers = config.headers ?? {};
        config.headers.Authorization = `Bearer ${access()}`;
      }
      if (mode === 'cookie') config.withCredentials = true;
      return config;
    });
    instance.interceptors.response.use(undefined, async (error) => {
      const { config, response } = error;
      const expired = response?.status === 401 && response?.data?.code === 'token_not_valid';
      if (!expired || !config || config._towerSimplejwtRetried) throw error;
      config._towerSimplejwtRetried = true;
      try {
        if (config._towerSimplejwtGeneration === generation) await refreshOnce();
      } catch {
        endSession();
        throw error;
      }
      return instance(config);
    });
    return instance;
  }

  async function logout() {
    const body = mode === 'header' ? { refresh: refresh() } : {};
    try {
      if (mode === 'cookie' || body.refresh) await postJson(paths.blacklist, body);
    } finally {
      endSession();
    }
  }

  /** Header mode: whether tokens are stored. Cookie mode cannot tell (HttpOnly): ask the server. */
  function isLoggedIn() {
    return mode === 'header' && Boolean(access());
  }

  /** The access token's claims (header mode), without verifying it. */
  function accessClaims() {
    const token = access();
    if (!token) return null;
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload));
  }

  return { login, logout, request, attachAxios, refresh: refreshOnce, isLoggedIn, accessClaims };
}
