// @ts-check
// The origin's admin token: `npm start` prints a URL ending in #token=…; the page keeps it in localStorage
// and takes it out of the address bar.
const KEY = 'upcast.admin';

export function adminToken() {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) {
    localStorage.setItem(KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return localStorage.getItem(KEY);
}

export function setAdminToken(t) {
  localStorage.setItem(KEY, t.trim());
}

/** Show the token form in `form` when there is no token; resolves once there is one. */
export function askToken(form) {
  const t = adminToken();
  if (t) return Promise.resolve(t);
  form.hidden = false;
  return new Promise((resolve) => {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      setAdminToken(form.elements.token.value);
      form.hidden = true;
      resolve(adminToken());
    });
  });
}
