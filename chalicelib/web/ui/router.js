// A small router on location.hash (#/alerts?days=7): the page needs no server-side routes, and a
// bookmarked or reloaded address opens the same view. One view at a time; leaving a view aborts
// its requests and timers (ctx.signal).

function compile(pattern) {
  const names = [];
  const re = pattern.replace(/:(\w+)/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  return { re: new RegExp(`^${re}$`), names };
}

/** "#/alerts/al-1?days=7" -> {path: "/alerts/al-1", query: URLSearchParams} */
export function parseHash(hash) {
  const raw = hash.replace(/^#/, "") || "/";
  const [p, q = ""] = raw.split("?");
  return { path: p, query: new URLSearchParams(q) };
}

export function hashFor(path, query) {
  const q = query ? new URLSearchParams(query).toString() : "";
  return `#${path}${q ? `?${q}` : ""}`;
}

export function createRouter(routes, render) {
  const table = routes.map((r) => ({ ...r, ...compile(r.path) }));
  let controller = null;

  function match(path) {
    for (const route of table) {
      const m = route.re.exec(path);
      if (m) {
        const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
        return { route, params };
      }
    }
    return null;
  }

  async function go() {
    // In-page anchors (#main) are not routes.
    if (location.hash && !location.hash.startsWith("#/")) return;
    controller?.abort();
    controller = new AbortController();
    const { path, query } = parseHash(location.hash);
    await render({ ...(match(path) ?? { route: null, params: {} }), path, query, signal: controller.signal });
  }

  return {
    start() {
      window.addEventListener("hashchange", go);
      return go();
    },
    navigate(path, query, { replace = false } = {}) {
      const hash = hashFor(path, query);
      if (replace) {
        history.replaceState(null, "", hash);
        return go();
      }
      if (location.hash === hash) return go();
      location.hash = hash; // hashchange renders
      return Promise.resolve();
    },
    /** Record a view's own state (filters) in the address without re-rendering it. */
    remember(path, query) {
      history.replaceState(null, "", hashFor(path, query));
    },
  };
}
