"""Panel components of the Tuning panel; each receives a StudyData (frames), never a storage client."""
