"""Tunnel worker: keeps the outbound tunnel to the MCP endpoint alive, leased and observable."""
