"""Contact pages, one module per area: people (list, person, edit), transfer (import/export), map."""
