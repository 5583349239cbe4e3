"""Conformance kit for the Kora plugin contract."""
