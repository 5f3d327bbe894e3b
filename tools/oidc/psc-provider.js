// A real OpenID provider (panva's oidc-provider) set up like Pro Santé Connect, for the tests:
// PSC's realm path and endpoint names, the non-standard discovery document name, scope
// `scope_all`, acr `eidas1`, PKCE, userinfo signed as a JWT, RP-initiated logout.
//
// Usage: node psc-provider.js <config.json>
// config: {"port": 0, "clients": [{client_id, client_secret, redirect_uris,
//          post_logout_redirect_uris, userinfo_signed_response_alg?}], "accounts":
//          {"<SubjectNameID>": {"acr": "eidas1", "claims": {...PSC userinfo claims...}}}}
// Prints "listening <issuer>" once ready. POST <issuer>/_test/clock {"offset": seconds} moves
// the provider's clock (to issue tokens that are already expired).
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const PREFIX = '/auth/realms/esante-wallet';
const SCOPE_ALL = [
  'SubjectNameID', 'SubjectRefPro', 'SubjectOrganization', 'SubjectOrganizationID',
  'SubjectRole', 'Secteur_Activite', 'Palier_Authentification', 'Acces_Regulation_Medicale',
  'otherIds', 'preferred_username', 'given_name', 'family_name', 'codeCivilite', 'email',
];

let clockOffset = 0;
const realNow = Date.now;
Date.now = () => realNow() + clockOffset * 1000;

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>${escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>${escape(title)}</h1>${body}</body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

function start(port) {
  const issuer = `http://127.0.0.1:${port}${PREFIX}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = { ...privateKey.export({ format: 'jwk' }), kid: 'psc-test', use: 'sig', alg: 'RS256' };
  const accounts = config.accounts;

  const provider = new Provider(issuer, {
    clients: config.clients.map((client) => ({ token_endpoint_auth_method: 'client_secret_basic', ...client })),
    jwks: { keys: [key] },
    scopes: ['openid', 'scope_all'],
    claims: { openid: ['sub'], scope_all: SCOPE_ALL, acr: null, auth_time: null, sid: null },
    acrValues: ['eidas1'],
    cookies: { keys: ['psc-test-provider'] },
    features: {
      devInteractions: { enabled: false },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    routes: {
      authorization: '/protocol/openid-connect/auth',
      token: '/protocol/openid-connect/token',
      userinfo: '/protocol/openid-connect/userinfo',
      jwks: '/protocol/openid-connect/certs',
      end_session: '/protocol/openid-connect/logout',
    },
    interactions: { url: (ctx, interaction) => `${PREFIX}/interaction/${interaction.uid}` },
    // The test client is first-party: everything it asks for is granted, no consent screen.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid scope_all');
      grant.addOIDCClaims(SCOPE_ALL);
      await grant.save();
      return grant;
    },
    async findAccount(ctx, id) {
      const account = accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        claims: () => ({ sub: `f:0000-test:${id}`, SubjectNameID: id, preferred_username: id, ...account.claims }),
      };
    },
  });

  const interaction = new RegExp(`^${PREFIX}/interaction/([^/]+)(/login)?$`);
  const callback = provider.callback();
  const server = http.createServer(async (req, res) => {
    try {
      const path = req.url.split('?')[0];
      if (path === `${PREFIX}/_test/clock` && req.method === 'POST') {
        const chunks = [];
        for await (const chunk of req) chunks.push(chunk);
        clockOffset = JSON.parse(Buffer.concat(chunks).toString()).offset;
        res.end('ok');
        return;
      }
      const match = path.match(interaction);
      if (match) {
        await provider.interactionDetails(req, res);
        if (req.method === 'POST' && match[2]) {
          const login = (await readForm(req)).get('login');
          if (accounts[login]) {
            const acr = accounts[login].acr || 'eidas1';
            await provider.interactionFinished(req, res, { login: { accountId: login, acr } });
            return;
          }
        }
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.end(page('Pro Santé Connect (test)', `<form method="post" action="${PREFIX}/interaction/${match[1]}/login">
<label>Identifiant national <input name="login" autocomplete="off"></label>
<button type="submit">Valider</button></form>`));
        return;
      }
      // PSC's discovery document has its own name.
      if (path === `${PREFIX}/.well-known/wallet-openid-configuration`) {
        req.url = req.url.replace('wallet-openid-configuration', 'openid-configuration');
      }
      if (!req.url.startsWith(PREFIX)) {
        res.statusCode = 404;
        res.end();
        return;
      }
      req.originalUrl = req.url;
      req.url = req.url.slice(PREFIX.length) || '/';
      callback(req, res);
    } catch (error) {
      res.statusCode = 500;
      res.end(String(error));
    }
  });
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`listening ${issuer}\n`);
  });
}

start(config.port);
