"""dockrewrite: rewrite single-stage Dockerfiles into multi-stage builds."""

__version__ = "0.1.0"
