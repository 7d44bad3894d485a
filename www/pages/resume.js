// @ts-check
// Which video a file was being uploaded to, kept in localStorage so that a reload or a closed tab can
// continue: the same file (name, size, modification time) dropped again resumes that video.
const PREFIX = 'upcast.upload:';

export const key = (file) => `${PREFIX}${file.name}|${file.size}|${file.lastModified}`;

export function get(file) {
  try {
    return JSON.parse(localStorage.getItem(key(file)));
  } catch {
    return null;
  }
}

export function set(file, rec) {
  localStorage.setItem(key(file), JSON.stringify({ ...rec, name: file.name, size: file.size, at: Date.now() }));
}

export function clear(file) {
  localStorage.removeItem(key(file));
}

/** Uploads left unfinished, newest first: {name, size, id, title, at}. */
export function pending() {
  const out = [];
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    if (!k.startsWith(PREFIX)) continue;
    try {
      out.push(JSON.parse(localStorage.getItem(k)));
    } catch {
      /* ignore a damaged entry */
    }
  }
  return out.sort((a, b) => b.at - a.at);
}
