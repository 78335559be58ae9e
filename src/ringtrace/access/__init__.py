"""Who may see and do what: agencies, users, roles, sessions, API tokens and the sharing
rules between agencies."""
