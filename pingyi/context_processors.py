"""Template context shared by every page."""

from django.conf import settings


def site(request):
    return {"site_name": settings.PINGYI_SITE_NAME}


def console(request):
    """Whether the signed-in admin reviews fabricated evaluations (异常核查 in the nav); read
    only when a console page asks."""
    from evaluations.review import reviewer_roots

    user = getattr(request, "user", None)
    return {"can_review": lambda: bool(user and reviewer_roots(user))}
