"""AWS clients and AWS-specific glue."""
