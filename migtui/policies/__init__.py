"""Built-in migration policies (TOML files, read by :mod:`migtui.model.policy`)."""
