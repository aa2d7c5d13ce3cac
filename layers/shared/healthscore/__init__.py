"""Client health scoring service: the shared package of the Lambda layer."""
