// panva/oidc-provider as "another OpenID provider" for the app's test
// against a provider that is not Scalekit (tests/other_provider.rs): a
// certified provider left close to its defaults, so its access tokens are
// opaque and it has no Scalekit API. Two clients, as a deployment of this
// app would register them:
//   - the app: public, native (any loopback port, RFC 8252 §7.3), PKCE,
//     authorization code and refresh token;
//   - the broker: confidential, client credentials.
// Sign-in goes through oidc-provider's own development login and consent
// pages (any login; the password is not checked). It prints one JSON line,
// {"issuer"}, once it listens on PORT, and stops when its stdin closes.
//
//   PORT=0 APP_CLIENT_ID=… BROKER_CLIENT_ID=… BROKER_CLIENT_SECRET=… node bench/oidc-provider/other-provider.mjs
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';

import Provider from 'oidc-provider';

function required(name) {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`${name} must be set (see the comment at the top of this file)\n`);
    process.exit(2);
  }
  return value;
}

// The issuer names its port, so a free one is found first when PORT=0.
async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const port = Number(process.env.PORT ?? '0') || await freePort();
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'other', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: required('APP_CLIENT_ID'),
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
      id_token_signed_response_alg: 'RS256',
    },
    {
      client_id: required('BROKER_CLIENT_ID'),
      client_secret: required('BROKER_CLIENT_SECRET'),
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
  ],
  jwks: { keys: [signingKey] },
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, email: sub.includes('@') ? sub : `${sub}@example.com`, email_verified: true, name: sub };
      },
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The ID token carries the scopes' claims (the app shows the email).
  conformIdTokenClaims: false,
  // oidc-provider drops offline_access from a request without
  // prompt=consent (the app never sends it), so a refresh token is issued
  // to any client allowed the grant, as many providers do.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
});
const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.resume();
