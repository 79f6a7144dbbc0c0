"""Development tools: the embedded PostgreSQL and Redis, and the `make run` supervisor."""
