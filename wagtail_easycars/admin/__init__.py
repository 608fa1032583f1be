"""The package's Wagtail admin: snippet viewsets, the EasyCars screens and the menu group.

Registration happens in ``wagtail_easycars.wagtail_hooks``; this package only defines things.
"""
