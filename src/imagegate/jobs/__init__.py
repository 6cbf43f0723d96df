"""Jobs: generations that outlive their request (docs/jobs.md)."""
