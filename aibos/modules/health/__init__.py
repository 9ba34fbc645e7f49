"""Health: liveness and readiness of the service and its dependencies."""
