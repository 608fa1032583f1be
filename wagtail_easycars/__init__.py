"""EasyCars dealer-management integration for Wagtail."""

__version__ = "0.1.0"
