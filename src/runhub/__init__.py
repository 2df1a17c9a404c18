"""runhub: keeps every activity exactly as recorded and serves it through the APIs apps speak."""

__version__ = "0.1.0"
