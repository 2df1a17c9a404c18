"""Identity and access: passwords, sessions, the OAuth 2.0 server, scopes, personal tokens."""
