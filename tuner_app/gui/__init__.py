"""The PySide6 desktop window: the only package that imports Qt; it adapts core objects, no logic."""
