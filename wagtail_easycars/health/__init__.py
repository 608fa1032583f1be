"""Health checks for operators: the database, the job system, the cache, EasyCars and each dealership's freshness."""
