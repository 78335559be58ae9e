"""Evidence storage: the content-addressed vault."""
