// panva/oidc-provider set up as the baseline of the refresh-token benchmark
// (docs/benchmarks.md, `passkeys-bench refresh`): one public client, refresh
// tokens rotated on every use, the ID token and the access token both RS256
// JWTs signed with one RSA-2048 key, everything in its default in-memory
// store. It seeds CHAINS refresh tokens (as a finished sign-in would leave
// them: a grant with the OpenID scopes and the API's scope) and prints one
// JSON line, {"issuer", "refreshTokens": [...]}, once it listens on PORT.
//
//   PORT=8790 CHAINS=8 node bench/oidc-provider/server.mjs
import { generateKeyPairSync } from 'node:crypto';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT ?? '0');
const chains = Number(process.env.CHAINS ?? '8');
const issuer = `http://127.0.0.1:${port}`;
const clientId = 'bench';
const resource = 'urn:bench:api';
const scope = 'openid email profile offline_access';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'bench', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [signingKey] },
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, email: `${sub}@example.com`, email_verified: true, name: `Bench ${sub}` };
      },
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The ID token carries the scopes' claims, as the emulator's does.
  conformIdTokenClaims: false,
  rotateRefreshToken: true,
  ttl: { AccessToken: 300, IdToken: 300, RefreshToken: 30 * 24 * 3600, Grant: 30 * 24 * 3600 },
  features: {
    devInteractions: { enabled: false },
    // The access token is a JWT for one API (RFC 8707 and RFC 9068), signed
    // RS256 like the ID token, rather than an opaque handle.
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: resource,
        accessTokenTTL: 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});

async function seed(index) {
  const accountId = `user-${index}`;
  const grant = new provider.Grant({ accountId, clientId });
  grant.addOIDCScope(scope);
  grant.addResourceScope(resource, 'api');
  const grantId = await grant.save();
  const client = await provider.Client.find(clientId);
  const refreshToken = new provider.RefreshToken({
    accountId,
    client,
    grantId,
    gty: 'authorization_code',
    authTime: Math.floor(Date.now() / 1000),
    scope: `${scope} api`,
    resource,
    sid: `sid-${index}`,
    sessionUid: `session-${index}`,
    expiresWithSession: false,
  });
  return refreshToken.save();
}

const refreshTokens = await Promise.all(Array.from({ length: chains }, (_, i) => seed(i)));
const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ issuer, refreshTokens })}\n`);
});
// Stop with the parent: it closes our stdin when it is done (or dies).
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.resume();
