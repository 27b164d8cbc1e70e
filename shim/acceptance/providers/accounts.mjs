// The accounts both providers know, keyed by login name.
//
// alice, bob and carol are fixed; any other valid login name X is an account
// too, made up on the fly (tests need fresh users every run):
//   email X@example.com, verified, unless X ends in "-unverified".
// Everything is derived from the login name alone, so the same login gives the
// same account (same OIDC sub, same GitHub id) in every run and every process.
import { createHash } from 'node:crypto';

const FIXED = {
  alice: { name: 'Alice Example' },
  bob: { name: 'Bob Example', email_verified: false },
  carol: { name: 'Carol Example' },
};

// A login name must be usable as an email local part and in a URL path as is.
const LOGIN_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

export function validLogin(login) {
  return typeof login === 'string' && LOGIN_RE.test(login);
}

// Returns the account for a login name, or null if the name is not valid.
export function account(login) {
  if (!validLogin(login)) return null;
  const fixed = FIXED[login] ?? {};
  return {
    login,
    email: `${login}@example.com`,
    email_verified: fixed.email_verified ?? !login.endsWith('-unverified'),
    name: fixed.name ?? login,
    // A stable number per login (GitHub ids are numbers): 31 bits of a hash, never 0.
    numericId: (createHash('sha256').update(login).digest().readUInt32BE(0) >>> 1) || 1,
  };
}
