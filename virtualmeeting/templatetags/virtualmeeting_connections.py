"""Template filters about meeting connections, for pages that list them (the profile's accounts)."""

from django import template

from virtualmeeting import selectors

register = template.Library()


@register.filter
def reconnect_texts(connection) -> list[str]:
    """{% for text in connection|reconnect_texts %}: what the owner reconnects for (selectors.reconnect_texts)."""
    return selectors.reconnect_texts(connection)
