"""Core rules without a surface: accounts, sessions, tokens, clients, keys, mail, MFA."""
