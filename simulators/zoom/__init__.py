"""A local, stateful stand-in for Zoom's OAuth host and REST API (see README.md).

Standard library only; the product reaches it over HTTP through ZOOM_OAUTH_BASE_URL and ZOOM_API_BASE_URL.
"""
