// The staff session: the bearer token and who it is for, kept in sessionStorage — gone when the tab
// closes, and not shared with other tabs (localStorage would keep it on a shared till after logout).

const KEY = "betwatch.session";
export const STAFF_ROLES = ["staff", "admin"]; // ingest keys are for tills and never log in here

function claims(token) {
  // Only to show who is logged in and hide what the role may not use; the API checks the signature.
  const payload = token.split(".")[1] ?? "";
  const json = atob(payload.replaceAll("-", "+").replaceAll("_", "/").padEnd(Math.ceil(payload.length / 4) * 4, "="));
  return JSON.parse(json);
}

export function createSession(storage = window.sessionStorage) {
  const read = () => {
    try {
      const s = JSON.parse(storage.getItem(KEY) ?? "null");
      return s && s.expiresAt > Date.now() ? s : null;
    } catch {
      return null;
    }
  };
  return {
    /** Keep a token from POST /auth/login; throws when it is not a staff user's. */
    start(token, expiresIn) {
      const c = claims(token);
      if (!STAFF_ROLES.includes(c.role)) throw new Error(`the role ${c.role} cannot use the staff app`);
      const s = { token, user: c.sub, role: c.role, expiresAt: Date.now() + expiresIn * 1000 };
      storage.setItem(KEY, JSON.stringify(s));
      return s;
    },
    end() {
      storage.removeItem(KEY);
    },
    current: read,
    token: () => read()?.token ?? null,
    /** Admin may do everything, as in the API. */
    may(roles) {
      const s = read();
      return !!s && (s.role === "admin" || !roles || roles.includes(s.role));
    },
  };
}
