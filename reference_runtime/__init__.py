"""Reference runtime for the Kora plugin contract."""
