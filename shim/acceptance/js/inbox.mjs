// What the flows tests read: the mails the SMTP catcher kept (MAIL_DIR/new/*.json) and the SMS
// deliveries the webhook receiver kept (SMS_DIR/*.json), both written by shim/acceptance/peers/.
// Also a stand-in for a browser page that an emailed link lands on (visitPage).
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { AuthClient } from '@supabase/auth-js'

const here = path.dirname(fileURLToPath(import.meta.url))
export const MAIL_DIR = process.env.MAIL_DIR ?? path.join(here, '../../../build/test/mail')
export const SMS_DIR = process.env.SMS_DIR ?? path.join(here, '../../../build/test/sms')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// Every JSON record in a folder, in arrival order (the names sort so).
function records(dir) {
  let names
  try {
    names = fs.readdirSync(dir)
  } catch {
    return []
  }
  return names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()
    .map((n) => JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')))
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' }
export const decodeEntities = (s) => s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e) => {
  if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10))
  return ENTITIES[e.toLowerCase()] ?? m
})
const htmlToText = (html) => decodeEntities(html
  .replace(/<(style|script|head)[\s\S]*?<\/\1>/gi, ' ')
  .replace(/<[^>]*>/g, ' '))

// The code of a mail: the first run of 6 to 10 digits in its text (or its HTML's text), URLs and
// email addresses (the tests' own hold digits) left out.
export function findCode(mail) {
  for (const source of [mail.text, mail.html && htmlToText(mail.html)]) {
    if (!source) continue
    const m = source.replace(/https?:\/\/\S+/g, ' ').replace(/\S+@\S+/g, ' ').match(/(?<![\d#])(\d{6,10})(?!\d)/)
    if (m) return m[1]
  }
  return null
}

// Every link of a mail: the HTML's hrefs, then URLs of the text part.
export function findLinks(mail) {
  const links = []
  if (mail.html) for (const m of mail.html.matchAll(/href\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)) links.push(decodeEntities(m[1] ?? m[2]))
  if (mail.text) for (const m of mail.text.matchAll(/https?:\/\/[^\s<>"')\]]+/g)) links.push(m[0])
  return [...new Set(links)]
}

// A mail with what a test needs pulled out: code, link (the /verify one), its parameters, tokenHash.
export function parseMail(record) {
  const links = findLinks(record)
  const link = links.find((l) => l.includes('/verify?')) ?? null
  const params = link ? Object.fromEntries(new URL(link).searchParams) : {}
  const hashLink = links.find((l) => l.includes('token_hash='))
  const tokenHash = hashLink ? new URL(hashLink).searchParams.get('token_hash') : (params.token ?? null)
  return { ...record, links, link, params, code: findCode(record), tokenHash }
}

const sameAddress = (a, b) => a.trim().toLowerCase() === b.trim().toLowerCase()
export const mailsTo = (address) =>
  records(path.join(MAIL_DIR, 'new')).filter((m) => m.rcpt_to.some((r) => sameAddress(r, address))).map(parseMail)

// Waits (up to timeout ms) until more than `after` mails went to the address; returns the newest.
export async function waitForMail(address, { after = 0, timeout = 20000 } = {}) {
  const deadline = Date.now() + timeout
  for (;;) {
    const mails = mailsTo(address)
    if (mails.length > after) return mails[mails.length - 1]
    if (Date.now() > deadline) throw new Error(`no mail to ${address} within ${timeout} ms (had ${mails.length}, waited for more than ${after})`)
    await sleep(100)
  }
}

// Runs `action`, then returns the new mail to the address it caused.
export async function mailAfter(address, action, options = {}) {
  const after = mailsTo(address).length
  const result = await action()
  return { result, mail: await waitForMail(address, { after, ...options }) }
}

// Nothing more than `after` mails to the address within `ms`.
export async function noMailWithin(address, ms = 1500, after = 0) {
  await sleep(ms)
  return mailsTo(address).length <= after
}

export const digits = (phone) => String(phone ?? '').replace(/\D/g, '')
export const smsTo = (phone) => records(SMS_DIR)
  .filter((r) => digits(r.payload?.sms?.phone) === digits(phone))
  .map((r) => ({ ...r, otp: r.payload.sms.otp, smsType: r.payload.sms.sms_type }))

export async function waitForSms(phone, { after = 0, timeout = 20000 } = {}) {
  const deadline = Date.now() + timeout
  for (;;) {
    const all = smsTo(phone)
    if (all.length > after) return all[all.length - 1]
    if (Date.now() > deadline) throw new Error(`no SMS to ${phone} within ${timeout} ms (had ${all.length}, waited for more than ${after})`)
    await sleep(100)
  }
}

export async function smsAfter(phone, action, options = {}) {
  const after = smsTo(phone).length
  const result = await action()
  return { result, sms: await waitForSms(phone, { after, ...options }) }
}

// The Standard Webhooks signature of a stored delivery, checked again here, independently of
// the receiver: v1,base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).
export function webhookKey(secret) {
  return Buffer.from(secret.replace(/^v1,/, '').replace(/^whsec_/, ''), 'base64')
}
export function webhookSignature(key, id, timestamp, body) {
  return 'v1,' + crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')
}

// A memory storage shared by clients, as a browser's localStorage is shared by its pages.
export function sharedStorage() {
  const map = new Map()
  return {
    map,
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => { map.set(k, v) },
    removeItem: (k) => { map.delete(k) },
  }
}

// A browser page at `href` that creates an auth-js client with detectSessionInUrl, as an app
// does on the page an emailed link redirects to: the client reads the fragment (implicit flow:
// #access_token=… or #error=…) or exchanges ?code= (PKCE, with the verifier in `storage`).
// auth-js only looks at the URL in a browser, so window and document are stood in for while
// the client initializes. Returns the client, initialize()'s error and the session it holds.
export async function visitPage(href, options) {
  const saved = Object.fromEntries(['window', 'document', 'BroadcastChannel'].map((k) => [k, Object.getOwnPropertyDescriptor(globalThis, k)]))
  const location = new URL(href)
  const define = (k, value) => Object.defineProperty(globalThis, k, { value, configurable: true, writable: true })
  define('window', { location, history: { state: null, replaceState: (_s, _t, u) => { location.href = u } } })
  define('document', {})
  define('BroadcastChannel', undefined)
  // every page of this process is one "browser context" to auth-js, which warns about the
  // clients sharing a storage key; for a test that is expected
  const warn = console.warn
  console.warn = (...args) => { if (!String(args[0]).includes('Multiple GoTrueClient instances')) warn(...args) }
  try {
    const client = new AuthClient({ autoRefreshToken: false, ...options, detectSessionInUrl: true })
    const { error } = await client.initialize()
    const { data } = await client.getSession()
    return { client, error, session: data.session, url: location.href }
  } finally {
    console.warn = warn
    for (const [k, d] of Object.entries(saved)) {
      if (d) Object.defineProperty(globalThis, k, d)
      else delete globalThis[k]
    }
  }
}
