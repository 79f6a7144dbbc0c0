"""English: the only language the admin is served in."""
