"""Records in, text out: every user-visible rendering of diagnostics, findings, tables and graphs.

One module per output family; nothing here runs a query or reads a spec.
"""
