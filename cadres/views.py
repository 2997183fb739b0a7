from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from cadres.models import Unit
from cadres.roles import Role, covers
from cadres.selectors import get_for_user_or_404, unit_cadres, unit_subtree


@login_required
def unit_detail(request, pk):
    """A unit, its sub-units and its cadres, for anyone holding a role over it."""
    unit = get_for_user_or_404(Unit.objects.all(), user=request.user, pk=pk)
    if not any(covers(request.user, role, unit) for role in Role):
        raise Http404
    children = unit_subtree(unit).filter(depth=unit.depth + 1)
    return render(
        request,
        "cadres/unit_detail.html",
        {"unit": unit, "children": children, "cadres": unit_cadres(unit)},
    )
