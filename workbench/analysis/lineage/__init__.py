"""Pure functions on lineage: which runs used which data version, and did the data change help?"""
