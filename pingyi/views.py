"""The site's front door: members go to their pages, admins to the console."""

from django.shortcuts import redirect, render

from orgs.scoping import is_console_user


def landing(request):
    user = request.user
    if user.is_authenticated and (user.is_superuser or is_console_user(user)):
        return redirect("console:home")
    if user.is_authenticated and hasattr(user, "member"):
        return redirect("members:home")
    return render(request, "landing.html")
