#!/usr/bin/env node
// A relying party written the way its library's documentation shows, against Tessera.
//
// openid-client (a certified OpenID Connect RP library) does every check itself: discovery
// issuer match, RFC 9207 `iss` in the authorization response, state, PKCE, the ID token's
// signature (via the discovered JWKS), iss, aud, azp, exp/iat, nonce and at_hash, and the
// userinfo `sub`. The only non-default setting is allowInsecureRequests, because the test
// server speaks plain http on localhost.
//
// Usage:
//   node rp.mjs authorize --issuer URL --client-id ID --client-secret S --redirect-uri URI
//       [--scope "openid ..."] [--id-token-alg ES256]
//     -> {"authorization_url", "code_verifier", "state", "nonce"}
//   node rp.mjs callback  (same options) --callback-url URL --code-verifier V --state S
//       --nonce N --post-logout-redirect-uri URI [--logout-state S]
//     -> {"tokens", "id_token_claims", "userinfo", "refreshed", "introspection",
//         "revocation", "refresh_after_revocation", "end_session_url"}
//
// Each step after the code exchange reports {"ok": true, ...} or {"ok": false, "error"};
// a failure before that (discovery, the code exchange, ID token validation) prints
// {"fatal": {...}} and exits 1. Output is always one JSON document on stdout.

import { parseArgs } from 'node:util';
import * as client from 'openid-client';

const { positionals, values: opts } = parseArgs({
  allowPositionals: true,
  options: {
    issuer: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string' },
    scope: { type: 'string', default: 'openid profile email offline_access' },
    'id-token-alg': { type: 'string' },
    'callback-url': { type: 'string' },
    'code-verifier': { type: 'string' },
    state: { type: 'string' },
    nonce: { type: 'string' },
    'post-logout-redirect-uri': { type: 'string' },
    'logout-state': { type: 'string', default: 'logout-state' },
  },
});

function required(name) {
  const value = opts[name];
  if (!value) {
    throw new TypeError(`missing --${name}`);
  }
  return value;
}

function describe(error) {
  const out = { name: error?.name, message: error?.message };
  for (const key of ['code', 'error', 'error_description', 'status']) {
    if (error?.[key] !== undefined) out[key] = error[key];
  }
  if (error?.cause && typeof error.cause === 'object') {
    const cause = error.cause;
    out.cause = cause instanceof Response
      ? { status: cause.status }
      : Object.fromEntries(
        Object.entries(cause).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v)),
      );
    if (cause.message) out.cause.message = cause.message;
    if (cause.error) out.cause.error = cause.error;
  }
  return out;
}

async function configure() {
  const metadata = { client_secret: required('client-secret') };
  if (opts['id-token-alg']) {
    // A registered client pins its ID token algorithm; the library then refuses any other.
    metadata.id_token_signed_response_alg = opts['id-token-alg'];
  }
  return client.discovery(
    new URL(required('issuer')),
    required('client-id'),
    metadata,
    client.ClientSecretBasic(),
    // The one test-only setting: the live test server is http://localhost:PORT.
    { execute: [client.allowInsecureRequests] },
  );
}

async function authorize() {
  const config = await configure();
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: required('redirect-uri'),
    scope: opts.scope,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { authorization_url: url.href, code_verifier: codeVerifier, state, nonce };
}

async function step(fn) {
  try {
    return { ok: true, ...(await fn()) };
  } catch (error) {
    return { ok: false, error: describe(error) };
  }
}

async function callback() {
  const config = await configure();
  const tokens = await client.authorizationCodeGrant(
    config,
    new URL(required('callback-url')),
    {
      pkceCodeVerifier: required('code-verifier'),
      expectedState: required('state'),
      expectedNonce: required('nonce'),
      idTokenExpected: true,
    },
  );
  const claims = tokens.claims();
  const result = {
    server_metadata: {
      issuer: config.serverMetadata().issuer,
      authorization_response_iss_parameter_supported:
        config.serverMetadata().authorization_response_iss_parameter_supported,
    },
    tokens: {
      token_type: tokens.token_type,
      scope: tokens.scope,
      expires_in: tokens.expiresIn(),
      has_access_token: Boolean(tokens.access_token),
      has_refresh_token: Boolean(tokens.refresh_token),
      has_id_token: Boolean(tokens.id_token),
    },
    id_token_claims: claims,
  };

  result.userinfo = await step(async () => ({
    claims: await client.fetchUserInfo(config, tokens.access_token, claims.sub),
  }));

  let current = tokens;
  result.refreshed = await step(async () => {
    // The library validates the refreshed ID token too (same iss/aud/sub, signature).
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    current = refreshed;
    return {
      rotated: Boolean(refreshed.refresh_token) && refreshed.refresh_token !== tokens.refresh_token,
      new_access_token: refreshed.access_token !== tokens.access_token,
      id_token_claims: refreshed.claims() ?? null,
    };
  });

  result.introspection = await step(async () => ({
    response: await client.tokenIntrospection(config, current.access_token),
  }));

  result.revocation = await step(async () => {
    await client.tokenRevocation(config, current.refresh_token, {
      token_type_hint: 'refresh_token',
    });
    return {};
  });

  // RFC 7009: a revoked refresh token must not work any more.
  result.refresh_after_revocation = await step(async () => {
    await client.refreshTokenGrant(config, current.refresh_token);
    return { unexpectedly_succeeded: true };
  });

  result.end_session_url = await step(async () => ({
    url: client.buildEndSessionUrl(config, {
      id_token_hint: current.id_token ?? tokens.id_token,
      post_logout_redirect_uri: required('post-logout-redirect-uri'),
      state: opts['logout-state'],
    }).href,
  }));
  return result;
}

const steps = { authorize, callback };

try {
  const run = steps[positionals[0]];
  if (!run) {
    throw new TypeError(`unknown step ${JSON.stringify(positionals[0])}: use authorize or callback`);
  }
  process.stdout.write(`${JSON.stringify(await run())}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ fatal: describe(error) })}\n`);
  process.exitCode = 1;
}
