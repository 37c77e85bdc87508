"""Panel components of the Explain page; each receives an ``Explanation`` (or a reference to one)."""
