"""The result store: atomic writes, manifests, reading run directories back, table schemas."""
