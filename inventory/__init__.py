"""Tenant app: items, locations, stock levels, the movement ledger and restocks."""
