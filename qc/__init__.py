"""qc: quality inspection (质检) of Chinese e-commerce customer-service chats."""

__version__ = "0.1.0"
