// The misbehave switch both providers share, for negative tests.
//
//   POST <provider>/__control/misbehave?endpoint=E&mode=M&count=N
//     the next N (default 1) requests to endpoint E answer per mode M:
//       hang     read the request, then never answer (the socket stays open)
//       garbage  200 with a non-JSON body (text/html)
//       error    500 with a plain-text body
//       forge    (OIDC token endpoint only) the real answer, but its id_token
//                re-signed with a key the provider never published
//     mode=off (or count=0) clears E; endpoint=all with mode=off clears all.
//   GET  <provider>/__control/misbehave   shows what is armed
// The answer is JSON: { armed: { E: { mode, count } } }.

// endpoints: the names this provider accepts; modes: the modes it implements.
export function createSwitch(endpoints, modes = ['hang', 'garbage', 'error']) {
  const armed = new Map(); // endpoint -> { mode, count }

  // Handles a control request given its query parameters; returns [status, body].
  function control(method, params) {
    if (method === 'POST') {
      const endpoint = params.get('endpoint');
      const mode = params.get('mode') ?? 'off';
      const count = Number(params.get('count') ?? 1);
      if (endpoint === 'all' && mode === 'off') armed.clear();
      else if (!endpoints.includes(endpoint)) return [400, { error: `endpoint must be one of ${endpoints.join(', ')}` }];
      else if (mode === 'off' || count === 0) armed.delete(endpoint);
      else if (!modes.includes(mode)) return [400, { error: `mode must be one of ${modes.join(', ')}, off` }];
      else if (!Number.isInteger(count) || count < 0) return [400, { error: 'count must be a whole number' }];
      else armed.set(endpoint, { mode, count });
    } else if (method !== 'GET') {
      return [405, { error: 'GET or POST' }];
    }
    return [200, { armed: Object.fromEntries(armed) }];
  }

  // Called once per request to an endpoint: the mode to apply to it, or null.
  function take(endpoint) {
    const entry = armed.get(endpoint);
    if (!entry) return null;
    if (--entry.count <= 0) armed.delete(endpoint);
    return entry.mode;
  }

  return { control, take };
}

// Applies hang / garbage / error to a raw node request and response.
export async function misbehave(mode, req, res) {
  // Read the whole request first, so that a hang is a server that got the
  // request and never answered, not a client still sending it.
  for await (const _ of req); // eslint-disable-line no-unused-vars
  if (mode === 'hang') return; // never answer
  if (mode === 'garbage') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><body>this is not JSON {"access_token":</body></html>');
    return;
  }
  res.writeHead(500, { 'content-type': 'text/plain' });
  res.end('Internal Server Error');
}
