"""The REST API (/api/v1/): a thin HTTP interface over inventory.services and selectors."""
