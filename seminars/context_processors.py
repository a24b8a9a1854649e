def navigation(request):
    """Header data for every page (filled in by the seminars views)."""
    return {}
