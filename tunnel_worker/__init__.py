"""Tunnel worker."""
