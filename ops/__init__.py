"""Operations: health and readiness, Prometheus metrics, request context for logs, gunicorn."""
