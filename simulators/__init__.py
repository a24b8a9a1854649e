"""Local simulators of the services the LMS talks to, each reached only over HTTP: one module per service
(`simulators.zoom`, `simulators.microsoft`), each with its own README and tests."""
