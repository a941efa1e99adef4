"""Server-rendered pages: the OAuth login and consent pages (and, later, the customer portal).
Plain HTML forms that work without JavaScript."""
