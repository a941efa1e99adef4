"""Storage: SQLAlchemy tables, repositories scoped by organization, Alembic migrations.

Only services/ import this package. Dialects reach the book through services.
"""
