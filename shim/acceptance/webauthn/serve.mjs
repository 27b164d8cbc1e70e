// The test page's server: page/index.html and page/app.mjs bundled with @supabase/auth-js by
// esbuild (from npm; no CDN), served over plain HTTP from http://localhost:<port> (a secure
// context: a browser treats localhost as potentially trustworthy, so WebAuthn works there).
// startPageServer(port) serves one origin; the test starts two (the allowed one and a stranger).
// `node serve.mjs PORT...` serves them by hand, for looking at the page in a browser.
import http from 'node:http'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

const here = (name) => fileURLToPath(new URL(name, import.meta.url))

let bundled = null
export async function bundle() {
  if (!bundled) {
    const result = await esbuild.build({
      entryPoints: [here('page/app.mjs')],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      target: 'chrome120',
      logLevel: 'error',
    })
    bundled = {
      'app.js': result.outputFiles[0].contents,
      'index.html': await readFile(here('page/index.html')),
    }
  }
  return bundled
}

export async function startPageServer(port, host = '127.0.0.1') {
  const files = await bundle()
  const types = { 'app.js': 'text/javascript; charset=utf-8', 'index.html': 'text/html; charset=utf-8' }
  const server = http.createServer((request, response) => {
    const path = new URL(request.url, 'http://page').pathname
    const name = path === '/' ? 'index.html' : path.slice(1)
    if (request.method !== 'GET' || !files[name]) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    response.writeHead(200, { 'content-type': types[name], 'cache-control': 'no-store' }).end(files[name])
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  return { origin: `http://localhost:${port}`, close: () => new Promise((resolve) => server.close(resolve)) }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const port of process.argv.slice(2)) {
    const { origin } = await startPageServer(Number(port))
    console.log(`serving ${origin}`)
  }
}
