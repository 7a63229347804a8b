// The API client: JSON in and out, the session's bearer token, errors in the API's one shape
// ({error, message, details}) as ApiError, and a 401 sending the user back to the login page.

export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** path`/alerts/${id}` encodes each interpolated value as one path segment. */
export function path(strings, ...values) {
  return strings.reduce((out, s, i) => out + s + (i < values.length ? encodeURIComponent(values[i]) : ""), "");
}

export function createApi({ base, session, onUnauthorised }) {
  async function request(method, route, { body, query, signal, auth = true, as = "json" } = {}) {
    const url = new URL(route.replace(/^\//, ""), base);
    for (const [k, v] of Object.entries(query ?? {})) if (v != null) url.searchParams.set(k, v);
    const headers = { Accept: as === "text" ? "*/*" : "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const token = session.token();
    if (auth && token) headers.Authorization = `Bearer ${token}`;
    let res;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        credentials: "omit", // the token travels in the header only; no cookies
        cache: "no-store",
      });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new ApiError(0, "network_error", "The API could not be reached. Check the connection and try again.");
    }
    if (res.status === 401 && auth) onUnauthorised();
    if (res.ok && as === "text") return res.text();
    if (res.status === 204) return null;
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      throw new ApiError(res.status, data?.error ?? "http_error", data?.message ?? `HTTP ${res.status}`, data?.details);
    }
    return data;
  }

  return {
    get: (route, options) => request("GET", route, options),
    post: (route, body, options) => request("POST", route, { ...options, body }),
    put: (route, body, options) => request("PUT", route, { ...options, body }),
    del: (route, options) => request("DELETE", route, options),
    /** A document (CSV, HTML) as text, e.g. to offer it as a download. */
    text: (route, options) => request("GET", route, { ...options, as: "text" }),
    login: (username, password) => request("POST", "/auth/login", { body: { username, password }, auth: false }),
  };
}
