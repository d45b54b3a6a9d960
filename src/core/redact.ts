// A URL with credentials (https://user:secret@host/...) is never printed in full.

/** The URL with its password (or a lone user token) shown as `***`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]*)@/i, (_m, scheme: string, cred: string) => {
    const colon = cred.indexOf(':');
    return `${scheme}${colon >= 0 ? `${cred.slice(0, colon)}:***` : '***'}@`;
  });
}
