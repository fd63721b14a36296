// A real OpenID Connect provider (npm oidc-provider, pinned in package.json) for Handover's
// SSO tests. Listens on 127.0.0.1 only. Its settings come from a JSON file named by argv[2]:
//   { issuer, port, client: {client_id, client_secret, redirect_uris, post_logout_redirect_uris},
//     jwks: {keys: [private JWK]}, accounts: {login: {password, otp?, claims: {...}}} }
// The login page checks the password and, when the account has one, an optional one-time
// code: with the code the session's amr is ["pwd", "otp", "mfa"], without it ["pwd"]. An
// account removed from the file (the test rewrites it) is one the provider no longer knows.
import { readFileSync } from 'node:fs';
import { URLSearchParams } from 'node:url';
import Provider from 'oidc-provider';

const settingsPath = process.argv[2];
const settings = () => JSON.parse(readFileSync(settingsPath, 'utf8'));
const initial = settings();

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(initial.issuer, {
  clients: [{
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...initial.client,
  }],
  jwks: initial.jwks,
  cookies: { keys: ['handover-test-cookie-key'] },
  pkce: { required: () => true },
  conformIdTokenClaims: false,
  claims: {
    // amr and acr with openid: they say how the person signed in (Handover may require MFA).
    openid: ['sub', 'amr', 'acr', 'auth_time'], email: ['email'], profile: ['name'],
    tenant: ['tid'], iss: null, sid: null,
  },
  scopes: ['openid', 'email', 'profile', 'tenant'],
  features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
  ttl: { IdToken: initial.id_token_ttl || 600, Session: 3600, Interaction: 600, Grant: 3600 },
  async findAccount(ctx, id) {
    // The account id is the subject: a stable identifier, not the login name.
    const account = Object.values(settings().accounts).find((each) => each.claims.sub === id);
    if (!account) return undefined;
    return { accountId: id, async claims() { return { ...account.claims, sub: id }; } };
  },
  async loadExistingGrant(ctx) {
    // Consent is the organisation's business, not the person's: grant what was asked.
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope || 'openid');
    await grant.save();
    return grant;
  },
});
provider.proxy = false;

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function page(uid, message) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Test provider sign-in</title></head>
<body><main><h1>Test provider sign-in</h1>${message ? `<p role="alert">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}">
<label for="login">Username</label><input id="login" name="login" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<label for="otp">One-time code (if you have one)</label><input id="otp" name="otp" inputmode="numeric">
<button type="submit">Sign in</button></form></main></body></html>`;
}

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.body = page(details.uid);
    return undefined;
  }
  const form = await body(ctx.req);
  const account = settings().accounts[form.get('login')];
  if (!account || account.password !== form.get('password')) {
    ctx.type = 'html';
    ctx.status = 200;
    ctx.body = page(details.uid, 'Wrong username or password.');
    return undefined;
  }
  const mfa = Boolean(account.otp) && form.get('otp') === account.otp;
  const result = { login: { accountId: account.claims.sub, amr: mfa ? ['pwd', 'otp', 'mfa'] : ['pwd'] } };
  const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(redirectTo);
  return undefined;
});

provider.listen(initial.port, '127.0.0.1', () => {
  console.log(`listening ${initial.issuer}`);
});
