"""Pro Santé Connect: the professionals' national OpenID Connect login (django-allauth's
OpenID Connect provider with what PSC asks for: nonce, eidas1, PKCE, signed userinfo,
RP-initiated logout), and the account it maps to (by RPPS, or self-enrolment)."""
