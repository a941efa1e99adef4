"""The pure core: plain data, rules and validators. No I/O, no imports from the rest of Comptoir."""
