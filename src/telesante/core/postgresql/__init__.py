"""Django's PostgreSQL backend, its pool's check of a connection made without a round trip."""
