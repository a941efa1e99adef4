"""Services: one use case per function. Each runs inside the unit of work it is given (a Book),
checks its guard clauses first, raises DomainError with every problem it finds, and writes nothing
when it raises."""
