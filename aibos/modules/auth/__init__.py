"""Auth: passwords, sessions and tokens; who is calling."""
