"""Operating the service: readiness of its dependencies and the production settings check."""
