"""Services: what ringtrace does, one module per use case (intake, follow-ups, analysts'
decisions, erasure, key rotation, relinking, integrity checks, evidence access, triage,
APK jobs, suggestions, notifications). Doors (web routes, CLI commands) parse, call one
service and render; services use the repositories of ringtrace.store and never import a
door. See docs/layout.md."""
